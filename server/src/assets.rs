//! The built front end (`pkg/`: WASM, JS, CSS) served as it should be for a first load that is
//! light and fast: precompressed once (brotli and gzip, at the strongest settings: the work
//! is done once, not per request) and picked by the browser's Accept-Encoding; with hashed
//! names (cargo-leptos `hash-files`), cached for a year as immutable; otherwise revalidated.
use std::path::{Path, PathBuf};

/// Files worth compressing.
fn compressible(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js" | "css" | "json" | "svg" | "html"))
}

/// Writes `FILE.br` and `FILE.gz` beside every compressible file under `dir` that has none,
/// or an older one. Errors are logged: serving uncompressed is still correct. Servers that
/// start together on one site (several instances, the test suite) leave it to whichever
/// takes the lock file first.
pub fn precompress(dir: &Path) {
    let lock = dir.join(".precompressing");
    let taken = std::fs::OpenOptions::new().write(true).create_new(true).open(&lock);
    let stale = std::fs::metadata(&lock)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(600));
    if taken.is_err() && !stale {
        return;
    }
    compress_dir(dir);
    let _ = std::fs::remove_file(&lock);
}

fn compress_dir(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            compress_dir(&p);
        } else if compressible(&p) {
            for (ext, f) in [("br", brotli_file as fn(&[u8]) -> std::io::Result<Vec<u8>>), ("gz", gzip_file)] {
                let out = PathBuf::from(format!("{}.{ext}", p.display()));
                if fresh(&p, &out) {
                    continue;
                }
                let result = std::fs::read(&p).and_then(|data| f(&data)).and_then(|bytes| {
                    // (write then rename: a reader never sees half a file)
                    let tmp = PathBuf::from(format!("{}.tmp", out.display()));
                    std::fs::write(&tmp, bytes)?;
                    std::fs::rename(&tmp, &out)
                });
                if let Err(e) = result {
                    tracing::warn!(file = %p.display(), error = %e, "could not precompress");
                }
            }
        }
    }
}

/// Whether `out` exists and is not older than `src`.
fn fresh(src: &Path, out: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(src), modified(out)), (Some(s), Some(o)) if o >= s)
}

fn brotli_file(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    // The strongest setting for what a release build makes (a few hundred KB a file);
    // quicker ones for the large files of debug builds.
    let quality = match data.len() {
        n if n <= 256 * 1024 => 11,
        n if n <= 4 * 1024 * 1024 => 9,
        _ => 4,
    };
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params)?;
    Ok(out)
}

fn gzip_file(data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data)?;
    enc.finish()
}

/// Whether the front end was built with hashed file names (`hash.txt` beside the binary,
/// where Leptos looks for it).
pub fn hashed_names() -> bool {
    std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("hash.txt"))).is_some_and(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precompressed_copies_decode_to_the_original_and_are_refreshed() {
        let dir = tempfile::tempdir().expect("dir");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).expect("pkg");
        let js = pkg.join("roster.js");
        let body = "export function x() { return 1; }\n".repeat(200);
        std::fs::write(&js, &body).expect("write");
        std::fs::write(pkg.join("favicon.png"), b"not compressed").expect("write");
        precompress(dir.path());
        let gz = std::fs::read(pkg.join("roster.js.gz")).expect("gz");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).expect("gunzip");
        assert_eq!(text, body);
        let br = std::fs::read(pkg.join("roster.js.br")).expect("br");
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut std::io::Cursor::new(br.clone()), &mut out).expect("unbrotli");
        assert_eq!(out, body.as_bytes());
        assert!(br.len() < body.len() / 10, "compressed: {} of {}", br.len(), body.len());
        assert!(!pkg.join("favicon.png.gz").exists());
        // A rebuilt file gets new copies.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&js, "changed").expect("write");
        precompress(dir.path());
        let mut out = Vec::new();
        brotli::BrotliDecompress(
            &mut std::io::Cursor::new(std::fs::read(pkg.join("roster.js.br")).expect("br")),
            &mut out,
        )
        .expect("unbrotli");
        assert_eq!(out, b"changed");
    }
}
