//! `toolgate lsp`: a language server for policy files over standard input and output.
//!
//! Synchronous (rust-analyzer's `lsp-server`): one thread reads messages, this one
//! answers them in order. Each feature is a file of its own; the analysis they share
//! comes from the library (`Policy` loading for diagnostics, `unstable::symbols` for
//! names, `unstable::format` for formatting). No input stops the server: a malformed
//! request gets an error response, a notification about an unknown document is
//! ignored, and a panic in a handler is caught and answered as an internal error.

mod complete;
mod diagnostics;
mod edits;
mod navigate;
mod text;
mod workspace;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as N;
use lsp_types::request::Request as R;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    HoverProviderCapability, OneOf, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions,
};
use serde::de::DeserializeOwned;

use self::workspace::Workspace;

/// Arguments of `toolgate lsp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Talk over standard input and output (the only transport; accepted because
    /// editors pass it).
    #[arg(long)]
    stdio: bool,
}

/// Runs the server until the client says `exit`: status 0 after a `shutdown` request,
/// 1 otherwise (the protocol's rule), 2 when the connection fails.
pub fn run(_args: &Args) -> ExitCode {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = match serde_json::to_value(capabilities()) {
        Ok(capabilities) => capabilities,
        Err(error) => return crate::check::fail(&format!("cannot describe the server: {error}")),
    };
    let initialized = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo {
            name: "toolgate".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    let started = connection
        .initialize_start()
        .and_then(|(id, _params)| connection.initialize_finish(id, initialized));
    if let Err(error) = started {
        return crate::check::fail(&format!("the client did not initialize: {error}"));
    }
    let mut server = Server {
        connection: &connection,
        workspace: Workspace::default(),
        shutdown: false,
    };
    let clean = server.serve();
    drop(connection);
    if let Err(error) = io_threads.join() {
        return crate::check::fail(&format!("the connection failed: {error}"));
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What the server offers.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["\"".to_string(), " ".to_string()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// The server's state between messages.
struct Server<'c> {
    connection: &'c Connection,
    workspace: Workspace,
    shutdown: bool,
}

/// A request's answer: its result, or an error code and message.
type Answer = Result<serde_json::Value, (ErrorCode, String)>;

impl Server<'_> {
    /// Answers messages until `exit` (true after a `shutdown`) or the end of the input.
    fn serve(&mut self) -> bool {
        while let Ok(message) = self.connection.receiver.recv() {
            match message {
                Message::Request(request) => {
                    let id = request.id.clone();
                    let answer = if self.shutdown {
                        Err((
                            ErrorCode::InvalidRequest,
                            "the server is shutting down".to_string(),
                        ))
                    } else if request.method == "shutdown" {
                        self.shutdown = true;
                        Ok(serde_json::Value::Null)
                    } else {
                        std::panic::catch_unwind(AssertUnwindSafe(|| self.request(request)))
                            .unwrap_or_else(|_| {
                                Err((ErrorCode::InternalError, "internal error".to_string()))
                            })
                    };
                    let response = match answer {
                        Ok(result) => Response::new_ok(id, result),
                        Err((code, message)) => Response::new_err(id, code as i32, message),
                    };
                    self.send(Message::Response(response));
                }
                Message::Notification(notification) => {
                    if notification.method == lsp_types::notification::Exit::METHOD {
                        return self.shutdown;
                    }
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        self.notification(notification)
                    }));
                }
                Message::Response(_) => {}
            }
        }
        false
    }

    fn send(&self, message: Message) {
        // A closed connection ends the loop on the next read.
        let _ = self.connection.sender.send(message);
    }

    /// Sends a notification.
    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Message::Notification(Notification::new(
            N::METHOD.to_string(),
            params,
        )));
    }

    fn request(&mut self, request: Request) -> Answer {
        use lsp_types::request::{
            CodeActionRequest, Completion, Formatting, GotoDefinition, HoverRequest, References,
        };
        let Request { method, params, .. } = request;
        match method.as_str() {
            "textDocument/hover" => {
                let params = parse::<<HoverRequest as R>::Params>(params)?;
                to_value(navigate::hover(&mut self.workspace, &params))
            }
            "textDocument/definition" => {
                let params = parse::<<GotoDefinition as R>::Params>(params)?;
                to_value(navigate::definition(&mut self.workspace, &params))
            }
            "textDocument/references" => {
                let params = parse::<<References as R>::Params>(params)?;
                to_value(navigate::references(&mut self.workspace, &params))
            }
            "textDocument/completion" => {
                let params = parse::<<Completion as R>::Params>(params)?;
                to_value(complete::completion(&mut self.workspace, &params))
            }
            "textDocument/formatting" => {
                let params = parse::<<Formatting as R>::Params>(params)?;
                to_value(edits::formatting(&self.workspace, &params))
            }
            "textDocument/codeAction" => {
                let params = parse::<<CodeActionRequest as R>::Params>(params)?;
                to_value(edits::code_actions(&mut self.workspace, &params))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("toolgate lsp does not handle `{other}`"),
            )),
        }
    }

    fn notification(&mut self, notification: Notification) {
        use lsp_types::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
        };
        let Notification { method, params } = notification;
        match method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(params) = parse::<<DidOpenTextDocument as N>::Params>(params) {
                    let uri = params.text_document.uri;
                    self.workspace.open(uri.clone(), params.text_document.text);
                    diagnostics::publish(self, &uri);
                }
            }
            "textDocument/didChange" => {
                if let Ok(params) = parse::<<DidChangeTextDocument as N>::Params>(params) {
                    let uri = params.text_document.uri;
                    let Some(text) = self.workspace.document_mut(&uri) else {
                        return;
                    };
                    for change in params.content_changes {
                        text.apply(change.range, &change.text);
                    }
                    diagnostics::publish(self, &uri);
                }
            }
            "textDocument/didSave" => {
                if let Ok(params) = parse::<<DidSaveTextDocument as N>::Params>(params) {
                    if self.workspace.document(&params.text_document.uri).is_some() {
                        diagnostics::publish(self, &params.text_document.uri);
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(params) = parse::<<DidCloseTextDocument as N>::Params>(params) {
                    let uri = params.text_document.uri;
                    if self.workspace.close(&uri) {
                        diagnostics::closed(self, &uri);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A message's parameters, or the error response for malformed ones.
fn parse<T: DeserializeOwned>(params: serde_json::Value) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(params).map_err(|error| {
        (
            ErrorCode::InvalidParams,
            format!("invalid parameters: {error}"),
        )
    })
}

fn to_value(value: impl serde::Serialize) -> Answer {
    serde_json::to_value(value).map_err(|error| (ErrorCode::InternalError, error.to_string()))
}
