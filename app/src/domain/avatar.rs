//! Profile pictures as the browser sees them: the upload rules and their refusals, and the
//! picture of an account without one. (Decoding and resizing: `backend::avatar`.)

/// Largest upload accepted.
pub const MAX_BYTES: usize = 1_000_000;
/// Largest width or height decoded.
pub const MAX_SIDE: u32 = 4096;
/// The stored picture is SIZE x SIZE.
pub const SIZE: u32 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AvatarError {
    #[error("Choose an image file.")]
    Empty,
    #[error("The image must be at most 1 MB.")]
    TooBig,
    #[error("Upload a PNG, JPEG or WebP image.")]
    Format,
    #[error("The image must be at most 4096 x 4096 pixels.")]
    Dimensions,
    #[error("That file could not be read as an image.")]
    Unreadable,
}

impl AvatarError {
    pub fn code(self) -> &'static str {
        match self {
            AvatarError::Empty => "empty",
            AvatarError::TooBig => "too_big",
            AvatarError::Format => "format",
            AvatarError::Dimensions => "dimensions",
            AvatarError::Unreadable => "unreadable",
        }
    }

    pub const ALL: [AvatarError; 5] = [Self::Empty, Self::TooBig, Self::Format, Self::Dimensions, Self::Unreadable];

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

/// The picture of an account without one: its initial on a colour derived from the name.
pub fn placeholder_svg(username: &str) -> String {
    let initial =
        username.chars().next().map(|c| c.to_ascii_uppercase()).filter(|c| c.is_ascii_alphanumeric()).unwrap_or('?');
    let hue = username.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" width=\"{SIZE}\" height=\"{SIZE}\">\
         <rect width=\"64\" height=\"64\" fill=\"hsl({hue} 45% 40%)\"/>\
         <text x=\"32\" y=\"42\" font-family=\"sans-serif\" font-size=\"30\" text-anchor=\"middle\" fill=\"#fff\">{initial}</text></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_plain_svg_with_the_initial() {
        let svg = placeholder_svg("alice");
        assert!(svg.starts_with("<svg") && svg.contains(">A</text>"));
        assert!(placeholder_svg("").contains(">?</text>"));
        assert_eq!(placeholder_svg("bob"), placeholder_svg("bob"));
    }

    #[test]
    fn refusal_codes_round_trip() {
        for e in AvatarError::ALL {
            assert_eq!(AvatarError::from_code(e.code()), Some(e));
        }
        assert_eq!(AvatarError::from_code("<b>"), None);
    }
}
