//! Filtering list responses inside a server-sent event stream, without buffering it.
//!
//! Bytes pass on as soon as the event they belong to is complete. Only an event whose
//! `data` is the JSON-RPC response to a list request is rewritten (its data lines become
//! one `data:` line with the filtered response); every other event passes unchanged.
//! Once every list request is answered the rest of the stream passes untouched. An event
//! larger than the limit ends the stream with an error rather than pass unfiltered.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};
use serde_json::Value;

use super::filter::ListFilter;

/// A `text/event-stream` body with its list responses filtered.
pub(crate) struct SseFilter {
    inner: Body,
    filter: ListFilter,
    pending: BytesMut,
    unanswered: usize,
    limit: usize,
}

impl SseFilter {
    pub fn new(inner: Body, filter: ListFilter, limit: usize) -> SseFilter {
        let unanswered = filter.lists.len();
        SseFilter {
            inner,
            filter,
            pending: BytesMut::new(),
            unanswered,
            limit,
        }
    }

    /// Takes the complete events off the front of `pending`, rewritten where needed.
    fn complete_events(&mut self) -> BytesMut {
        let mut output = BytesMut::new();
        while self.unanswered > 0 {
            let Some(length) = event_length(&self.pending) else {
                break;
            };
            let event = self.pending.split_to(length);
            match self.rewrite(&event) {
                Some(rewritten) => {
                    self.unanswered = self.unanswered.saturating_sub(1);
                    output.extend_from_slice(rewritten.as_bytes());
                }
                None => output.extend_from_slice(&event),
            }
        }
        if self.unanswered == 0 {
            output.extend_from_slice(&self.pending.split());
        }
        output
    }

    /// The event rewritten, if its data answers a list request. Bytes that are not
    /// UTF-8 are read as clients read them (replaced), so no list escapes the filter.
    fn rewrite(&self, event: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(event);
        let lines: Vec<&str> = lines(&text).collect();
        let data: Vec<&str> = lines.iter().filter_map(|line| data_value(line)).collect();
        if data.is_empty() {
            return None;
        }
        let mut message: Value = serde_json::from_str(&data.join("\n")).ok()?;
        if !self.filter.filter_message(&mut message) {
            return None;
        }
        let mut rewritten = String::with_capacity(event.len());
        let mut data_written = false;
        for line in lines.iter().filter(|line| !line.is_empty()) {
            if data_value(line).is_some() {
                if !data_written {
                    rewritten.push_str(&format!("data: {message}\n"));
                    data_written = true;
                }
            } else {
                rewritten.push_str(line);
                rewritten.push('\n');
            }
        }
        rewritten.push('\n');
        Some(rewritten)
    }
}

impl HttpBody for SseFilter {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        loop {
            if self.unanswered == 0 && self.pending.is_empty() {
                return Pin::new(&mut self.inner).poll_frame(context);
            }
            let frame = match Pin::new(&mut self.inner).poll_frame(context) {
                Poll::Pending => return Poll::Pending,
                // An incomplete last event is discarded, as clients discard it.
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let data = match frame.into_data() {
                Ok(data) => data,
                Err(frame) => return Poll::Ready(Some(Ok(frame))),
            };
            self.pending.extend_from_slice(&data);
            let output = self.complete_events();
            if self.pending.len() > self.limit {
                let message = format!("a server-sent event exceeds {} bytes", self.limit);
                return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::other(message)))));
            }
            if !output.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(output.freeze()))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The length of the first complete event (through the blank line ending it), if the
/// buffer holds one. A `\r` at the very end may start a `\r\n`: wait for more.
fn event_length(buffer: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    let mut index = 0;
    while let Some(byte) = buffer.get(index) {
        let next = match byte {
            b'\n' => index + 1,
            b'\r' => match buffer.get(index + 1) {
                Some(b'\n') => index + 2,
                Some(_) => index + 1,
                None => return None,
            },
            _ => {
                index += 1;
                continue;
            }
        };
        if index == line_start {
            return Some(next);
        }
        line_start = next;
        index = next;
    }
    None
}

/// The lines of an event, without their endings (`\r\n`, `\n` or `\r`).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

/// The value of a `data` field line.
fn data_value(line: &str) -> Option<&str> {
    if line == "data" {
        return Some("");
    }
    let value = line.strip_prefix("data:")?;
    Some(value.strip_prefix(' ').unwrap_or(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_end_at_a_blank_line() {
        assert_eq!(event_length(b"data: x\n\nrest"), Some(9));
        assert_eq!(event_length(b"data: x\r\n\r\nrest"), Some(11));
        assert_eq!(event_length(b"data: x\r\rrest"), Some(9));
        assert_eq!(event_length(b"data: x\n"), None);
        assert_eq!(event_length(b"data: x\r"), None);
        assert_eq!(event_length(b"\n"), Some(1));
    }

    #[test]
    fn data_lines() {
        let text = "id: 1\r\ndata: {\"a\":\ndata:1}\n";
        let values: Vec<&str> = lines(text).filter_map(data_value).collect();
        assert_eq!(values, ["{\"a\":", "1}"]);
    }
}
