//! The server's tool list (an MCP `tools/list` result), for warnings W006 and W007.

use std::fmt;

use serde::Deserialize;

use crate::source::{SourceId, Span};

/// The tools a server offers (an MCP `tools/list` result): the one reader of a tool list,
/// for the checker (W006, W007, W009), `toolgate init` and `toolgate table --tools`.
#[derive(Debug, Clone, Default)]
pub struct ToolManifest {
    /// The tools, in the manifest's order.
    pub tools: Vec<ListedTool>,
}

/// One tool of a [`ToolManifest`].
#[derive(Debug, Clone)]
pub struct ListedTool {
    /// Its name.
    pub name: String,
    /// Where its name is written in the manifest's source (empty without a file).
    pub span: Span,
    /// Its `title`, or else its annotations' `title`.
    pub title: Option<String>,
    /// Its MCP annotations; `None` when it has none.
    pub annotations: Option<ToolAnnotations>,
    /// The top-level `properties` of its `inputSchema`, in order; `None` when it declares
    /// no `inputSchema` (W009 judges only tools that declare one).
    pub properties: Option<Vec<Property>>,
}

/// A tool's MCP annotations (hints; absent ones are `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// `readOnlyHint`.
    #[serde(default)]
    pub read_only_hint: Option<bool>,
    /// `destructiveHint`.
    #[serde(default)]
    pub destructive_hint: Option<bool>,
    /// `idempotentHint`.
    #[serde(default)]
    pub idempotent_hint: Option<bool>,
    /// `openWorldHint`.
    #[serde(default)]
    pub open_world_hint: Option<bool>,
}

/// A top-level property of a tool's `inputSchema`: what `arg` conditions can constrain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Its name.
    pub name: String,
    /// Its JSON type, when the schema names one as a string.
    pub kind: Option<String>,
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
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    annotations: Option<AnnotationsEntry>,
    #[serde(default, rename = "inputSchema")]
    input_schema: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct AnnotationsEntry {
    #[serde(default)]
    title: Option<String>,
    #[serde(flatten)]
    hints: ToolAnnotations,
}

/// The top-level properties of an `inputSchema`, in their order.
fn properties(schema: &serde_json::Value) -> Vec<Property> {
    schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| Property {
                    name: name.clone(),
                    kind: property
                        .get("type")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl ToolManifest {
    /// Reads `{"tools":[{"name":"..."},...]}` (a `title`, `annotations` and
    /// `inputSchema` are read when present, other fields ignored). `source` is the id the
    /// caller gives the manifest's text in its [`crate::source::Sources`], so that
    /// diagnostics can point at a tool's name.
    pub fn parse(text: &str, source: SourceId) -> Result<ToolManifest, ManifestError> {
        let list: ListResult = serde_json::from_str(text).map_err(ManifestError::of)?;
        let mut from = 0;
        let tools = list
            .tools
            .into_iter()
            .map(|tool| {
                let (start, end) = find_name(text, &tool.name, from).unwrap_or((0, 0));
                from = end.max(from);
                let (annotation_title, annotations) = match tool.annotations {
                    Some(entry) => (entry.title, Some(entry.hints)),
                    None => (None, None),
                };
                ListedTool {
                    span: Span::new(source, start, end),
                    title: tool.title.or(annotation_title),
                    annotations,
                    properties: tool.input_schema.as_ref().map(properties),
                    name: tool.name,
                }
            })
            .collect();
        Ok(ToolManifest { tools })
    }

    /// A manifest of names without a file (spans are empty).
    pub fn from_names(names: impl IntoIterator<Item = String>) -> ToolManifest {
        let nowhere = Span::new(SourceId(u32::MAX), 0, 0);
        let tools = names
            .into_iter()
            .map(|name| ListedTool {
                name,
                span: nowhere,
                title: None,
                annotations: None,
                properties: None,
            })
            .collect();
        ToolManifest { tools }
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
            .map(|tool| tool.name.as_str())
            .collect();
        assert_eq!(names, ["fs.read", "db.drop"]);
        let span = manifest.tools[1].span;
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
