//! Filtering list responses inside a server-sent event stream, without buffering it.
//!
//! Bytes pass on as soon as the event they belong to is complete. Every event whose
//! `data` holds a list result ([`super::filter`]) is rewritten (its data lines become one
//! `data:` line with the filtered message); every other readable event passes unchanged,
//! byte for byte. An event the gate cannot read one way (data that is not JSON, or not
//! UTF-8, a field other than `data`, `event`, `id` and `retry`, a member name twice) is
//! dropped and the stream ended there: clients that read it another way never see it.
//! A leading byte order mark is removed, as clients remove it. An event larger than the
//! limit ends the stream with an error (after the events before it) rather than pass
//! unfiltered, however the stream is cut into frames; an incomplete last event is
//! dropped, as clients drop it (the end of the stream ends a line: a last event ended by
//! `\r\r` is complete).

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::filter::ListFilter;
use super::metrics::{Metrics, Open};
use super::strict;

/// What became of one event.
enum Event {
    /// Passes as it came.
    Unchanged,
    /// Passes rewritten.
    Rewritten(String),
    /// Cannot be read one way: the stream ends before it.
    Unreadable,
}

/// Where the stream is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Passing events on.
    Open,
    /// An event exceeds the limit: the error is the next frame.
    TooLarge,
    /// Ended: by the service, by an unreadable event, or by the error.
    Ended,
}

/// A `text/event-stream` body with its list responses filtered.
pub(crate) struct SseFilter {
    inner: Body,
    filter: ListFilter,
    pending: BytesMut,
    limit: usize,
    /// Whether the start of the stream (and any byte order mark) is behind us.
    started: bool,
    state: State,
    /// Counts the stream as open in the metrics while it lives.
    _open: Option<Open>,
}

impl SseFilter {
    pub fn new(inner: Body, filter: ListFilter, limit: usize) -> SseFilter {
        let open = filter.caller.metrics.as_ref().map(Metrics::stream);
        SseFilter {
            inner,
            filter,
            pending: BytesMut::new(),
            limit,
            started: false,
            state: State::Open,
            _open: open,
        }
    }

    /// Takes the complete events off the front of `pending`, rewritten where needed,
    /// stopping at an unreadable one or one larger than the limit (whole or not yet
    /// complete). `at_end`: the stream has ended, and with it the last line.
    fn complete_events(&mut self, at_end: bool) -> BytesMut {
        if !self.started {
            const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
            if self.pending.len() < BOM.len() && BOM.starts_with(&self.pending) {
                return BytesMut::new();
            }
            if self.pending.starts_with(BOM) {
                let _ = self.pending.split_to(BOM.len());
            }
            self.started = true;
        }
        let mut output = BytesMut::new();
        while let Some(length) = event_length(&self.pending, at_end) {
            if length > self.limit {
                self.state = State::TooLarge;
                self.pending.clear();
                return output;
            }
            let event = self.pending.split_to(length);
            match self.read_event(&event) {
                Event::Unchanged => output.extend_from_slice(&event),
                Event::Rewritten(rewritten) => output.extend_from_slice(rewritten.as_bytes()),
                Event::Unreadable => {
                    tracing::warn!("an upstream event could not be read one way: stream ended");
                    self.state = State::Ended;
                    self.pending.clear();
                    return output;
                }
            }
        }
        if self.pending.len() > self.limit {
            self.state = State::TooLarge;
            self.pending.clear();
        }
        output
    }

    /// Reads one complete event.
    fn read_event(&self, event: &[u8]) -> Event {
        let Ok(text) = std::str::from_utf8(event) else {
            return Event::Unreadable;
        };
        let lines: Vec<&str> = lines(text).filter(|line| !line.is_empty()).collect();
        let mut data: Vec<&str> = Vec::new();
        for line in &lines {
            match field(line) {
                Some(("data", value)) => data.push(value),
                Some(("event" | "id" | "retry", _)) | None => {}
                Some(_) => return Event::Unreadable,
            }
        }
        let data = data.join("\n");
        if data.is_empty() {
            return Event::Unchanged;
        }
        let Ok(mut message) = strict::read(data.as_bytes()) else {
            return Event::Unreadable;
        };
        if !self.filter.filter_body(&mut message) {
            return Event::Unchanged;
        }
        let mut rewritten = String::with_capacity(event.len());
        let mut data_written = false;
        for line in &lines {
            if matches!(field(line), Some(("data", _))) {
                if !data_written {
                    rewritten.push_str("data: ");
                    rewritten.push_str(&message.to_string());
                    rewritten.push('\n');
                    data_written = true;
                }
            } else {
                rewritten.push_str(line);
                rewritten.push('\n');
            }
        }
        rewritten.push('\n');
        Event::Rewritten(rewritten)
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
            match self.state {
                State::Open => {}
                State::TooLarge => {
                    self.state = State::Ended;
                    let message = format!("a server-sent event exceeds {} bytes", self.limit);
                    return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::other(
                        message,
                    )))));
                }
                State::Ended => return Poll::Ready(None),
            }
            let frame = match Pin::new(&mut self.inner).poll_frame(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    let output = self.complete_events(true);
                    if self.state == State::Open {
                        self.state = State::Ended;
                    }
                    // What remains is an incomplete event: dropped.
                    self.pending.clear();
                    if output.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(output.freeze()))));
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let data = match frame.into_data() {
                Ok(data) => data,
                Err(frame) => return Poll::Ready(Some(Ok(frame))),
            };
            self.pending.extend_from_slice(&data);
            let output = self.complete_events(false);
            if !output.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(output.freeze()))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self.state {
            State::Open => self.pending.is_empty() && self.inner.is_end_stream(),
            State::TooLarge => false,
            State::Ended => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The length of the first complete event (through the blank line ending it), if the
/// buffer holds one. A `\r` at the very end may start a `\r\n`: wait for more, unless
/// the stream has ended (`at_end`).
fn event_length(buffer: &[u8], at_end: bool) -> Option<usize> {
    let mut line_start = 0;
    let mut index = 0;
    while let Some(byte) = buffer.get(index) {
        let next = match byte {
            b'\n' => index + 1,
            b'\r' => match buffer.get(index + 1) {
                Some(b'\n') => index + 2,
                Some(_) => index + 1,
                None if at_end => index + 1,
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

/// A line's field name and value (one space after the colon removed); `None` for a
/// comment (a line starting with `:`).
fn field(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(':') {
        return None;
    }
    Some(match line.split_once(':') {
        Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
        None => (line, ""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_end_at_a_blank_line() {
        for at_end in [false, true] {
            assert_eq!(event_length(b"data: x\n\nrest", at_end), Some(9));
            assert_eq!(event_length(b"data: x\r\n\r\nrest", at_end), Some(11));
            assert_eq!(event_length(b"data: x\r\rrest", at_end), Some(9));
            assert_eq!(event_length(b"data: x\n", at_end), None);
            assert_eq!(event_length(b"data: x\r", at_end), None);
            assert_eq!(event_length(b"\n", at_end), Some(1));
        }
        assert_eq!(event_length(b"data: x\r\r", false), None);
        assert_eq!(event_length(b"data: x\r\r", true), Some(9));
        assert_eq!(event_length(b"data: x\n\r", true), Some(9));
    }

    #[test]
    fn data_lines() {
        let text = "id: 1\r\ndata: {\"a\":\ndata:1}\n";
        let values: Vec<(&str, &str)> = lines(text).filter_map(field).collect();
        assert_eq!(
            values,
            [("id", "1"), ("data", "{\"a\":"), ("data", "1}"), ("", "")]
        );
        assert_eq!(field(": comment"), None);
        assert_eq!(field("data : x"), Some(("data ", "x")));
        assert_eq!(field("data"), Some(("data", "")));
    }
}
