//! The server's tool list (an MCP `tools/list` result), for warnings W006 and W007.

use std::fmt;

use serde::Deserialize;

use crate::source::{SourceId, Span};

/// The tools a server offers, each with where its name is written in the manifest file.
#[derive(Debug, Clone, Default)]
pub struct ToolManifest {
    /// Tool names and their spans in the manifest's source.
    pub tools: Vec<(String, Span)>,
    /// For each tool of [`ToolManifest::tools`], in the same order, the names of the
    /// top-level `properties` of its `inputSchema`; `None` when it declares no
    /// `inputSchema` (enables W009).
    pub properties: Vec<Option<Vec<String>>>,
}

/// Why a manifest could not be read.
///
/// The text says what was expected; the JSON parser's error, with the line and column,
/// is the [`source`](std::error::Error::source).
#[derive(Debug)]
#[non_exhaustive]
pub enum ManifestError {
    /// The text is not JSON.
    NotJson(serde_json::Error),
    /// The text is JSON but not a `tools/list` result: no `tools` array, or a tool
    /// without a string `name`.
    NotToolsList(serde_json::Error),
}

impl ManifestError {
    fn of(error: serde_json::Error) -> ManifestError {
        match error.classify() {
            serde_json::error::Category::Data => ManifestError::NotToolsList(error),
            serde_json::error::Category::Io
            | serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof => ManifestError::NotJson(error),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::NotJson(_) | ManifestError::NotToolsList(_) => {
                f.write_str("not an MCP `tools/list` result (`{\"tools\":[{\"name\":...}]}`)")
            }
        }
    }
}

impl std::error::Error for ManifestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ManifestError::NotJson(error) | ManifestError::NotToolsList(error) => Some(error),
        }
    }
}

#[derive(Deserialize)]
struct ListResult {
    tools: Vec<ToolEntry>,
}

#[derive(Deserialize)]
struct ToolEntry {
    name: String,
    #[serde(rename = "inputSchema")]
    input_schema: Option<serde_json::Value>,
}

/// The top-level property names of an `inputSchema`, in their order.
fn property_names(schema: &serde_json::Value) -> Vec<String> {
    schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

impl ToolManifest {
    /// Reads `{"tools":[{"name":"..."},...]}` (other fields are ignored). `source` is the
    /// id the caller gives the manifest's text in its [`crate::source::Sources`], so that
    /// diagnostics can point at a tool's name.
    pub fn parse(text: &str, source: SourceId) -> Result<ToolManifest, ManifestError> {
        let list: ListResult = serde_json::from_str(text).map_err(ManifestError::of)?;
        let mut from = 0;
        let properties = list
            .tools
            .iter()
            .map(|tool| tool.input_schema.as_ref().map(property_names))
            .collect();
        let tools = list
            .tools
            .into_iter()
            .map(|tool| {
                let (start, end) = find_name(text, &tool.name, from).unwrap_or((0, 0));
                from = end.max(from);
                (tool.name, Span::new(source, start, end))
            })
            .collect();
        Ok(ToolManifest { tools, properties })
    }

    /// A manifest of names without a file (spans are empty).
    pub fn from_names(names: impl IntoIterator<Item = String>) -> ToolManifest {
        let nowhere = Span::new(SourceId(u32::MAX), 0, 0);
        let tools: Vec<(String, Span)> = names.into_iter().map(|name| (name, nowhere)).collect();
        ToolManifest {
            properties: vec![None; tools.len()],
            tools,
        }
    }
}

/// The byte range of `"name": "<name>"`'s value, searching from `from`.
fn find_name(text: &str, name: &str, from: usize) -> Option<(usize, usize)> {
    let encoded = serde_json::to_string(name).ok()?;
    let mut at = from;
    while let Some(found) = text.get(at..)?.find(&encoded) {
        let start = at + found;
        let end = start + encoded.len();
        let before = text.get(..start)?.trim_end();
        if before.ends_with(':')
            && before
                .trim_end_matches(':')
                .trim_end()
                .ends_with("\"name\"")
        {
            return Some((start, end));
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_their_places() {
        let text = r#"{"tools": [{"name": "fs.read", "description": "name"}, {"name":"db.drop"}]}"#;
        let manifest = ToolManifest::parse(text, SourceId(1)).unwrap();
        let names: Vec<&str> = manifest
            .tools
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(names, ["fs.read", "db.drop"]);
        let span = manifest.tools[1].1;
        assert_eq!(&text[span.range()], "\"db.drop\"");
    }

    #[test]
    fn rejects_other_documents() {
        use std::error::Error as _;
        let error = ToolManifest::parse("[1, 2]", SourceId(0)).unwrap_err();
        assert!(matches!(error, ManifestError::NotToolsList(_)), "{error:?}");
        assert!(error.to_string().contains("tools/list"));
        let json = error
            .source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(serde_json::Error::is_data));
        let nameless = ToolManifest::parse(r#"{"tools": [{"title": "x"}]}"#, SourceId(0));
        assert!(matches!(nameless, Err(ManifestError::NotToolsList(_))));
    }

    #[test]
    fn rejects_text_that_is_not_json() {
        use std::error::Error as _;
        let error = ToolManifest::parse("{\"tools\": [", SourceId(0)).unwrap_err();
        assert!(matches!(error, ManifestError::NotJson(_)), "{error:?}");
        let json = error
            .source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(serde_json::Error::is_eof));
    }
}
