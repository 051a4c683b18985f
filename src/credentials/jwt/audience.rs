//! Comparing audiences with the canonical resource URI (RFC 8707): scheme and host
//! case-insensitively, the rest exactly, one trailing slash ignored.

/// A URI split for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Audience {
    text: String,
}

impl Audience {
    pub(crate) fn new(uri: &str) -> Audience {
        Audience {
            text: uri.to_string(),
        }
    }

    /// Whether `candidate` names the same resource.
    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let (scheme, authority, rest) = split(&self.text);
        let (other_scheme, other_authority, other_rest) = split(candidate);
        scheme.eq_ignore_ascii_case(other_scheme)
            && authority.eq_ignore_ascii_case(other_authority)
            && rest == other_rest
    }
}

/// `(scheme, authority, rest)`, with one trailing slash dropped from the whole. Text
/// without `://` is all `rest`.
fn split(uri: &str) -> (&str, &str, &str) {
    let uri = uri.strip_suffix('/').unwrap_or(uri);
    let Some((scheme, after)) = uri.split_once("://") else {
        return ("", "", uri);
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    (scheme, authority, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host_ignore_case_and_one_slash() {
        let ours = Audience::new("https://mcp.example.com/mcp");
        assert!(ours.matches("https://mcp.example.com/mcp"));
        assert!(ours.matches("HTTPS://MCP.Example.COM/mcp"));
        assert!(ours.matches("https://mcp.example.com/mcp/"));
        assert!(!ours.matches("https://mcp.example.com/mcp//"));
        assert!(!ours.matches("https://mcp.example.com/MCP"));
        assert!(!ours.matches("https://mcp.example.com"));
        assert!(!ours.matches("https://mcp.example.com.evil/mcp"));
        assert!(Audience::new("https://a.example/").matches("https://A.example"));
        assert!(Audience::new("urn:toolgate").matches("urn:toolgate/"));
    }
}
