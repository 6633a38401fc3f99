//! Stored file names, as PocketBase makes them: `snake_case_name_<10 random>.ext`.
//!
//! The name part keeps ASCII letters and digits, split into snake_case words
//! (`myTestDB` → `my_test_db`), at most 100 characters, padded with random characters
//! when shorter than 3. The extension keeps ASCII word characters and `.*-+=#`, at most
//! 20 characters, and comes from the content when the name has none. A random suffix
//! always follows the name, so an upload never overwrites another.

use crate::random::{string, LOWERCASE_ALPHANUMERIC};

/// The stored name for an uploaded file called `original`. `sniffed_extension` (with
/// its dot) is used when the name has no extension.
pub fn sanitize(original: &str, sniffed_extension: Option<&str>) -> String {
    sanitize_with(original, sniffed_extension, &mut || string(10, LOWERCASE_ALPHANUMERIC))
}

pub(crate) fn sanitize_with(original: &str, sniffed: Option<&str>, random: &mut dyn FnMut() -> String) -> String {
    // A client may send a path: only its last part is the name (as Go's multipart
    // reader does for PocketBase), and only the end of an overlong name matters.
    let base = original.rsplit(['/', '\\']).next().unwrap_or(original);
    let start = base.char_indices().rev().nth(299).map(|(i, _)| i).unwrap_or(0);
    let name = &base[start..];

    let raw_extension = extension_part(name);
    let cleaned: String = raw_extension
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '-' | '+' | '=' | '#'))
        .collect();
    let mut extension = format!(".{}", cleaned.trim_matches('.'));
    if extension == "." {
        extension = sniffed.unwrap_or("").to_owned();
    }
    if extension.len() > 20 {
        extension = format!(".{}", extension[extension.len() - 20..].trim_matches('.'));
    }

    let stem = name.strip_suffix(raw_extension).unwrap_or(name).trim_matches('.');
    let mut clean = snake_case(stem);
    if clean.len() < 3 {
        clean.push_str(&random());
    } else if clean.len() > 100 {
        clean.truncate(100);
    }
    format!("{clean}_{}{extension}", random())
}

/// `.tar.gz`-style double extensions count as one.
fn extension_part(name: &str) -> &str {
    let Some(last) = name.rfind('.') else { return "" };
    match name[..last].rfind('.') {
        Some(previous) => &name[previous..],
        None => &name[last..],
    }
}

/// Words are runs of ASCII letters and digits; an upper-case letter after a lower-case
/// one starts a new word.
fn snake_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('_');
        }
        let mut previous_upper = true;
        for (i, c) in word.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 && !previous_upper {
                out.push('_');
            }
            previous_upper = c.is_ascii_uppercase();
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(original: &str, sniffed: Option<&str>) -> String {
        sanitize_with(original, sniffed, &mut || "r4nd0m0000".to_owned())
    }

    #[test]
    fn names_like_pocketbase() {
        assert_eq!(fixed("My Holiday Photo.PNG", None), "my_holiday_photo_r4nd0m0000.PNG");
        assert_eq!(fixed("myTestDB.json", None), "my_test_db_r4nd0m0000.json");
        assert_eq!(fixed("archive.tar.gz", None), "archive_r4nd0m0000.tar.gz");
        assert_eq!(fixed("../../etc/passwd", None), "passwd_r4nd0m0000");
        assert_eq!(fixed("C:\\Users\\me\\report.pdf", None), "report_r4nd0m0000.pdf");
        assert_eq!(
            fixed("a.txt", None),
            "ar4nd0m0000_r4nd0m0000.txt",
            "short names are padded"
        );
        assert_eq!(fixed("ünïcödé.txt", None), "n_c_d_r4nd0m0000.txt");
        assert_eq!(fixed("no-extension", Some(".pdf")), "no_extension_r4nd0m0000.pdf");
        assert_eq!(
            fixed(".hidden", None),
            "r4nd0m0000_r4nd0m0000.hidden",
            "all extension, as in PocketBase"
        );
        assert_eq!(fixed("evil.<script>", None), "evil_r4nd0m0000.script");
        let long = format!("{}.txt", "x".repeat(500));
        assert_eq!(fixed(&long, None).len(), 100 + 1 + 10 + 4);
    }

    #[test]
    fn stored_names_never_leave_their_folder() {
        for name in ["../a", "a/b", "a\\b", "/abs", "..", ".", "%2e%2e%2f", "a\0b"] {
            let clean = sanitize(name, None);
            assert!(
                !clean.contains('/') && !clean.contains('\\') && !clean.contains(".."),
                "{name:?} → {clean:?}"
            );
            assert!(!clean.starts_with('.'), "{clean}");
        }
    }
}
