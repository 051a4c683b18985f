//! Resource URIs with one spelling.
//!
//! Policies match resource URIs as written, but servers normalise them before they read
//! a file or a row: `file:///workspace/a/../secrets/key`, `file:///workspace/%73ecrets/key`
//! and `file:///workspace//secrets/key` all name `file:///workspace/secrets/key` to most
//! of them, while a pattern `file:///workspace/secrets/*` matches none of the three. The
//! gate refuses (`400`) every URI a normalising server could read as another path:
//! - a `.` or `..` path segment, and an empty segment (`//`) after the authority;
//! - a backslash (read as `/` by some servers) or a NUL anywhere;
//! - a percent-escape of an unreserved character (`%73` for `s`, `%2E` for `.`), of `/`
//!   or `\`, of NUL, and a malformed escape (`%zz`, `%4`).
//!
//! Other escapes (`%20`, `%C3%A9`) are left as written: the policy matches them as
//! written.

/// Checks that `uri` has one spelling; the error says why not (lowercase, for a
/// message that names the URI).
pub(crate) fn one_spelling(uri: &str) -> Result<(), &'static str> {
    if uri.contains('\\') {
        return Err("contains a backslash");
    }
    if uri.contains('\0') {
        return Err("contains a NUL character");
    }
    escapes(uri)?;
    let path = path_of(uri);
    let mut segments = path.split('/');
    // The segment before the first `/` of an absolute path is empty by construction.
    if path.starts_with('/') {
        segments.next();
    }
    let segments: Vec<&str> = segments.collect();
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => return Err("has a `.` or `..` path segment"),
            // A trailing `/` is an empty last segment, which servers keep as it is.
            "" if index != last => return Err("has an empty path segment (`//`)"),
            _ => {}
        }
    }
    Ok(())
}

/// The path of a URI: after `scheme:` and any `//authority`, before `?` or `#`.
fn path_of(uri: &str) -> &str {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let before_query = uri.get(..end).unwrap_or(uri);
    let after_scheme = match before_query.find(':') {
        Some(colon)
            if before_query
                .get(..colon)
                .is_some_and(|scheme| !scheme.contains('/')) =>
        {
            before_query.get(colon + 1..).unwrap_or("")
        }
        _ => before_query,
    };
    match after_scheme.strip_prefix("//") {
        Some(authority_and_path) => authority_and_path
            .find('/')
            .and_then(|slash| authority_and_path.get(slash..))
            .unwrap_or(""),
        None => after_scheme,
    }
}

/// Every `%` starts an escape of two hex digits naming a byte that is not unreserved,
/// `/`, `\` or NUL.
fn escapes(uri: &str) -> Result<(), &'static str> {
    let bytes = uri.as_bytes();
    let mut index = 0;
    while let Some(position) = bytes
        .get(index..)
        .and_then(|rest| rest.iter().position(|byte| *byte == b'%'))
    {
        let start = index + position;
        let digits = bytes.get(start + 1..start + 3).unwrap_or(&[]);
        let value = std::str::from_utf8(digits)
            .ok()
            .filter(|text| text.len() == 2)
            .and_then(|text| u8::from_str_radix(text, 16).ok())
            .ok_or("has a malformed percent-escape")?;
        let unreserved = value.is_ascii_alphanumeric() || b"-._~".contains(&value);
        if unreserved || matches!(value, b'/' | b'\\' | 0) {
            return Err("spells a character with a percent-escape that servers decode");
        }
        index = start + 3;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_with_one_spelling_pass() {
        for uri in [
            "file:///workspace/notes.txt",
            "file:///workspace/dir/",
            "https://example.com/a/b?x=..&y=//#..",
            "secret://{employee}/salary",
            "docs://guide",
            "file:///with%20space/caf%C3%A9",
            "urn:isbn:0451450523",
            "mem://",
        ] {
            assert_eq!(one_spelling(uri), Ok(()), "{uri}");
        }
    }

    #[test]
    fn uris_a_server_would_normalise_are_refused() {
        for uri in [
            "file:///workspace/a/../secrets/key",
            "file:///workspace/./secrets/key",
            "file:///workspace/..",
            "file:///workspace//secrets/key",
            "file:///workspace/%73ecrets/key",
            "file:///workspace/%2e%2e/secrets",
            "file:///workspace/secrets%2Fkey",
            "file:///workspace/secrets%5ckey",
            "file:///workspace\\secrets\\key",
            "file:///workspace/%zz",
            "file:///workspace/%4",
            "file:///workspace/%00",
            "https://example.com//admin",
        ] {
            assert!(one_spelling(uri).is_err(), "{uri}");
        }
    }
}
