// Embeds the SQL migrations: writes `$OUT_DIR/migrations.rs` with each backend's files in
// version order (version, description, SQL by `include_str!`), which `backend::store::migrations`
// hands to sqlx's migrator. (sqlx's `migrate!` macro does the same, but its crate compiles
// every database driver a second time for the compiler's own use.) Names follow sqlx's rules
// (`<VERSION>_<DESCRIPTION>.sql`, underscores read as spaces), so the checksums and
// descriptions recorded in existing databases stay the same.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut out = String::new();
    for (name, dir) in [("SQLITE", "sqlite"), ("POSTGRES", "postgres")] {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                let (version, rest) = file.split_once('_')?;
                let description = rest.strip_suffix(".sql")?.replace('_', " ");
                let version = version.parse().unwrap_or_else(|_| panic!("migration {file}: no version"));
                Some((version, description, e.path().display().to_string()))
            })
            .collect();
        files.sort();
        let _ = writeln!(out, "pub const {name}: &[(i64, &str, &str)] = &[");
        for (version, description, path) in files {
            let _ = writeln!(out, "    ({version}, {description:?}, include_str!({path:?})),");
        }
        let _ = writeln!(out, "];");
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}
