//! Names the build in `tabops --version`: the git commit the binary was built from and the build date (UTC).
//!
//! The commit is read from the checkout's `.git` directly (HEAD, then the branch's loose ref or `packed-refs`), so
//! the build needs neither git nor a dependency; a linked worktree's `.git` file is followed to its own and common
//! git directories. `TABOPS_BUILD_COMMIT` overrides it (a build from a source archive); outside a checkout it is
//! "unknown". The date honours `SOURCE_DATE_EPOCH` (reproducible builds), else it is today's.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=TABOPS_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = match std::env::var("TABOPS_BUILD_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_owned(),
        _ => git_commit(&manifest_dir).unwrap_or_else(|| "unknown".to_owned()),
    };
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    println!("cargo:rustc-env=TABOPS_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=TABOPS_BUILD_DATE={}", civil_date(seconds));
}

/// The abbreviated (12 hex digits) commit HEAD names, found from `start` upwards; `None` outside a checkout.
fn git_commit(start: &Path) -> Option<String> {
    let dot_git = start.ancestors().map(|dir| dir.join(".git")).find(|path| path.exists())?;
    let (git_dir, common_dir) = if dot_git.is_file() {
        // A linked worktree: `.git` holds `gitdir: PATH`; that directory's `commondir` names the shared one.
        let text = fs::read_to_string(&dot_git).ok()?;
        let git_dir = dot_git.parent()?.join(text.trim().strip_prefix("gitdir:")?.trim());
        let common = match fs::read_to_string(git_dir.join("commondir")) {
            Ok(rel) => git_dir.join(rel.trim()),
            Err(_) => git_dir.clone(),
        };
        (git_dir, common)
    } else {
        (dot_git.clone(), dot_git)
    };
    let head_path = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head_path.display());
    let head = fs::read_to_string(&head_path).ok()?;
    let head = head.trim();
    let full = match head.strip_prefix("ref:") {
        None => head.to_owned(),
        Some(reference) => {
            let reference = reference.trim();
            let loose = [git_dir.join(reference), common_dir.join(reference)];
            let packed = common_dir.join("packed-refs");
            // Only paths that exist: cargo reruns a build script on every build while one it watches is missing.
            // The refs directory is watched too, for a branch whose loose ref is created later.
            let refs_dir = common_dir.join(reference).parent().map(Path::to_path_buf);
            for path in loose.iter().chain([&packed]).chain(refs_dir.as_ref()) {
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
            match loose.iter().find_map(|path| fs::read_to_string(path).ok()) {
                Some(oid) => oid.trim().to_owned(),
                None => fs::read_to_string(&packed).ok()?.lines().find_map(|line| {
                    let (oid, name) = line.split_once(' ')?;
                    (name.trim() == reference).then(|| oid.to_owned())
                })?,
            }
        }
    };
    let is_oid = full.len() >= 40 && full.bytes().all(|b| b.is_ascii_hexdigit());
    is_oid.then(|| full[..12].to_owned())
}

/// `YYYY-MM-DD` (UTC) of a Unix time (Howard Hinnant's days-to-civil algorithm).
fn civil_date(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
