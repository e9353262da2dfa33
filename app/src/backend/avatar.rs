//! Profile pictures: an upload is checked (size, format by its bytes, dimensions, with
//! decoder memory limits against decompression bombs), cropped to a square, resized to
//! `SIZE` pixels and re-encoded as PNG, which also drops any metadata (EXIF locations).
//! CPU-bound: callers run it off the async runtime.
use std::io::Cursor;

use image::{imageops::FilterType, ImageFormat, ImageReader, Limits};

pub use crate::domain::avatar::{AvatarError, MAX_BYTES, MAX_SIDE, SIZE};

/// The stored form of an upload: a SIZE x SIZE PNG.
pub fn normalize(bytes: &[u8]) -> Result<Vec<u8>, AvatarError> {
    if bytes.is_empty() {
        return Err(AvatarError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(AvatarError::TooBig);
    }
    // The declared type is not trusted: the bytes decide.
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => f,
        _ => return Err(AvatarError::Format),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => AvatarError::Dimensions,
        _ => AvatarError::Unreadable,
    })?;
    let square = img.resize_to_fill(SIZE, SIZE, FilterType::Lanczos3);
    let mut out = Cursor::new(Vec::new());
    square.write_to(&mut out, ImageFormat::Png).map_err(|_| AvatarError::Unreadable)?;
    Ok(out.into_inner())
}

pub use crate::domain::avatar::placeholder_svg;

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    #[test]
    fn uploads_become_square_pngs_of_the_stored_size() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
            let png = normalize(&encoded(640, 360, format)).expect("normalised");
            assert_eq!(image::guess_format(&png).ok(), Some(ImageFormat::Png));
            let img = image::load_from_memory(&png).expect("decodes");
            assert_eq!((img.width(), img.height()), (SIZE, SIZE), "{format:?}");
        }
        // Smaller pictures are scaled up to the same size.
        let img = image::load_from_memory(&normalize(&encoded(10, 20, ImageFormat::Png)).expect("ok")).expect("png");
        assert_eq!((img.width(), img.height()), (SIZE, SIZE));
    }

    #[test]
    fn bad_uploads_are_refused_with_a_reason() {
        assert_eq!(normalize(b""), Err(AvatarError::Empty));
        assert_eq!(normalize(&vec![0u8; MAX_BYTES + 1]), Err(AvatarError::TooBig));
        assert_eq!(normalize(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), Err(AvatarError::Format));
        let mut bmp = b"BM".to_vec();
        bmp.extend([0u8; 60]);
        assert_eq!(normalize(&bmp), Err(AvatarError::Format));
        assert_eq!(normalize(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Err(AvatarError::Format));
        // A PNG signature with garbage after it.
        let mut broken = encoded(8, 8, ImageFormat::Png);
        broken.truncate(40);
        assert_eq!(normalize(&broken), Err(AvatarError::Unreadable));
        // Dimensions beyond the limit are refused before decoding pixels (a 1x5000 PNG is tiny).
        assert_eq!(normalize(&encoded(1, 5000, ImageFormat::Png)), Err(AvatarError::Dimensions));
    }
}
