//! The canonical layout: columns aligned across neighbouring statements, long lists
//! filled under their first item, conditions on the rule's line or below it.

use std::collections::HashMap;

use super::build::{Class, Shape};
use super::piece::{Doc, Piece};

use super::WIDTH;

/// A row is left out of a column's alignment when the text before the column is wider.
const ALIGN_LIMIT: usize = 50;

/// One printed line: its indentation and its pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    /// Spaces before the first piece.
    pub indent: usize,
    /// The pieces, each after its `gap`.
    pub pieces: Vec<Piece>,
}

impl Line {
    fn new(indent: usize) -> Line {
        Line {
            indent,
            pieces: Vec::new(),
        }
    }

    /// The column after its last piece.
    fn end(&self) -> usize {
        self.indent + width(&self.pieces)
    }
}

/// The width of pieces on one line (the first one's gap not counted).
fn width(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .enumerate()
        .map(|(index, piece)| piece.width() + if index == 0 { 0 } else { piece.gap })
        .sum()
}

/// Aligns the columns of each run of statements of one class; `starts_run[i]` tells
/// whether statement `i` starts a new run whatever its class (an empty line before it).
pub(super) fn align(shapes: &mut [Shape], starts_run: &[bool]) {
    let mut rest = shapes;
    let mut start = 0;
    while let Some(first) = rest.first() {
        let class = row_class(first);
        let mut length = 1;
        while class.is_some()
            && rest
                .get(length)
                .is_some_and(|shape| row_class(shape) == class)
            && !starts_run.get(start + length).copied().unwrap_or(true)
        {
            length += 1;
        }
        let (run, after) = rest.split_at_mut(length.min(rest.len()));
        if class.is_some() {
            align_run(run);
        }
        start += run.len();
        rest = after;
    }
}

fn row_class(shape: &Shape) -> Option<Class> {
    match shape {
        Shape::Row { class, .. } if *class != Class::Alone => Some(*class),
        _ => None,
    }
}

/// Pads the first piece of each segment so that it starts at its column: one more than
/// the widest text before that column among the rows with the same key.
fn align_run(rows: &mut [Shape]) {
    let stops = rows
        .iter()
        .map(|shape| match shape {
            Shape::Row { segments, .. } => segments.len(),
            Shape::Claims { .. } => 0,
        })
        .max()
        .unwrap_or(0);
    for stop in 1..stops {
        // (row, key, width before the column) for the rows that have the segment.
        let mut prefixes = Vec::new();
        for (index, shape) in rows.iter().enumerate() {
            if let Shape::Row { segments, keys, .. } = shape {
                if segments
                    .get(stop)
                    .is_some_and(|segment| !segment.is_empty())
                {
                    let before: Vec<Piece> =
                        segments.iter().take(stop).flatten().cloned().collect();
                    let key = keys.get(stop).copied().unwrap_or(0);
                    prefixes.push((index, key, width(&before)));
                }
            }
        }
        let mut columns: HashMap<u8, usize> = HashMap::new();
        for &(_, key, prefix) in &prefixes {
            if prefix <= ALIGN_LIMIT {
                let column = columns.entry(key).or_insert(0);
                *column = (*column).max(prefix);
            }
        }
        for (index, key, prefix) in prefixes {
            let gap = match columns.get(&key) {
                Some(&column) if prefix <= ALIGN_LIMIT => column - prefix + 1,
                _ => 1,
            };
            if let Some(Shape::Row { segments, .. }) = rows.get_mut(index) {
                if let Some(first) = segments.get_mut(stop).and_then(|s| s.first_mut()) {
                    first.gap = gap;
                }
            }
        }
    }
}

/// The lines of one statement.
pub(super) fn lines(shape: Shape) -> Vec<Line> {
    match shape {
        Shape::Row {
            segments,
            condition,
            ..
        } => {
            let mut writer = Writer {
                lines: fill(segments.concat(), 0, 2),
            };
            if let Some((keyword, doc)) = condition {
                let same_line = writer.lines.len() == 1
                    && !doc.is_compound()
                    && writer.column() + 2 + keyword.width() + doc.flat_width() <= WIDTH;
                if same_line {
                    writer.put(keyword, 1);
                } else {
                    writer.lines.push(Line::new(2));
                    writer.put(keyword, 0);
                }
                writer.place(doc, 1, 0);
            }
            writer.lines
        }
        Shape::Claims {
            mut open,
            lines,
            close,
        } => {
            if lines.is_empty() {
                open.push(close.gap(0));
                return vec![Line {
                    indent: 0,
                    pieces: set_break_indent(open, 2),
                }];
            }
            let mut out = vec![Line {
                indent: 0,
                pieces: set_break_indent(open, 2),
            }];
            let field_width = lines
                .iter()
                .map(|[field, _]| width(field))
                .max()
                .unwrap_or(0);
            for [field, mut paths] in lines {
                if let Some(from) = paths.first_mut() {
                    from.gap = field_width - width(&field) + 1;
                }
                let mut pieces = field;
                pieces.extend(paths);
                out.extend(fill(pieces, 2, 4));
            }
            out.push(Line {
                indent: 0,
                pieces: vec![close],
            });
            out
        }
    }
}

fn set_break_indent(pieces: Vec<Piece>, indent: usize) -> Vec<Piece> {
    pieces
        .into_iter()
        .map(|mut piece| {
            piece.break_indent.get_or_insert(indent);
            piece
        })
        .collect()
}

/// Each piece's width with the pieces glued to it (no space before them).
fn glued_widths(pieces: &[Piece]) -> Vec<usize> {
    let mut glued = vec![0; pieces.len()];
    let mut following = 0;
    for (piece, slot) in pieces.iter().zip(glued.iter_mut()).rev() {
        *slot = piece.width() + following;
        following = if piece.gap == 0 { *slot } else { 0 };
    }
    glued
}

/// Lays `pieces` out from a line indented `indent`, breaking after a list's comma where
/// a line would grow past [`WIDTH`]; a continued list goes on under its first item.
/// A comment forcing a break before a piece starts the new line at the piece's list
/// column (for an item after a comma), or at `continuation`.
fn fill(mut pieces: Vec<Piece>, indent: usize, continuation: usize) -> Vec<Line> {
    let count = pieces.len();
    let breakable = |piece: &Piece| piece.list.is_some_and(|tag| !tag.first);
    let glued = glued_widths(&pieces);
    let mut hangs: HashMap<usize, usize> = HashMap::new();
    let mut breaks = Vec::new();
    let mut start = 0;
    let mut line_indent = indent;
    loop {
        let mut column = line_indent;
        let mut last_break = None;
        let mut end = count;
        for (index, (piece, glued)) in pieces.iter().zip(&glued).enumerate().skip(start) {
            let gap = if index == start { 0 } else { piece.gap };
            if index > start && piece.gap > 0 {
                if column + gap + glued > WIDTH {
                    let at = if breakable(piece) {
                        Some(index)
                    } else {
                        last_break
                    };
                    if let Some(at) = at {
                        end = at;
                        break;
                    }
                }
                if breakable(piece) {
                    last_break = Some(index);
                }
            }
            if let Some(tag) = piece.list.filter(|tag| tag.first) {
                hangs.insert(tag.list, column + gap);
            }
            column += gap + piece.width();
        }
        breaks.push((start, line_indent));
        if end == count {
            break;
        }
        line_indent = pieces
            .get(end)
            .and_then(|piece| piece.list)
            .and_then(|tag| hangs.get(&tag.list).copied())
            .unwrap_or(continuation);
        start = end;
    }
    for piece in &mut pieces {
        let hang = piece
            .list
            .filter(|tag| !tag.first)
            .and_then(|tag| hangs.get(&tag.list).copied())
            .unwrap_or(continuation);
        piece.break_indent.get_or_insert(hang);
    }
    let mut lines = Vec::new();
    let mut rest = pieces.into_iter();
    for (index, &(start, line_indent)) in breaks.iter().enumerate() {
        let end = breaks.get(index + 1).map_or(count, |&(next, _)| next);
        lines.push(Line {
            indent: line_indent,
            pieces: rest.by_ref().take(end - start).collect(),
        });
    }
    lines
}

/// Lines being written, the last one open.
struct Writer {
    lines: Vec<Line>,
}

impl Writer {
    /// The column where the open line ends.
    fn column(&self) -> usize {
        self.lines.last().map_or(0, Line::end)
    }

    fn indent(&self) -> usize {
        self.lines.last().map_or(0, |line| line.indent)
    }

    /// Appends `piece` to the open line, `gap` spaces after what is there.
    fn put(&mut self, mut piece: Piece, gap: usize) {
        piece.gap = gap;
        let indent = self.indent();
        piece.break_indent.get_or_insert(indent + 2);
        match self.lines.last_mut() {
            Some(line) => line.pieces.push(piece),
            None => self.lines.push(Line {
                indent: 0,
                pieces: vec![piece],
            }),
        }
    }

    fn newline(&mut self, indent: usize) {
        self.lines.push(Line::new(indent));
    }

    /// Writes `doc` on the open line if it fits (with `trail` more characters after
    /// it), and broken one operand per line where it does not.
    fn place(&mut self, doc: Doc, gap: usize, trail: usize) {
        if self.column() + gap + doc.flat_width() + trail <= WIDTH {
            self.flat(doc, gap);
            return;
        }
        let line_indent = self.indent();
        match doc {
            Doc::Flat(_) => self.flat(doc, gap),
            Doc::Not(word, inner) => {
                self.put(word, gap);
                self.place(*inner, 1, trail);
            }
            Doc::Paren(open, inner, close) => {
                self.put(open, gap);
                match *inner {
                    Doc::Chain(operands, operators) => {
                        self.chain(operands, operators, 0, trail + 1, line_indent + 4);
                    }
                    inner => self.place(inner, 0, trail + 1),
                }
                self.put(close, 0);
            }
            Doc::Chain(operands, operators) => {
                self.chain(operands, operators, gap, trail, line_indent + 2);
            }
        }
    }

    /// `a op b op c`, each operand after the first on a line indented `continuation`.
    fn chain(
        &mut self,
        operands: Vec<Doc>,
        operators: Vec<Piece>,
        gap: usize,
        trail: usize,
        continuation: usize,
    ) {
        let last = operands.len().saturating_sub(1);
        let mut operators = operators.into_iter();
        for (index, operand) in operands.into_iter().enumerate() {
            let operand_trail = if index == last { trail } else { 0 };
            if index == 0 {
                self.place(operand, gap, operand_trail);
                continue;
            }
            self.newline(continuation);
            if let Some(operator) = operators.next() {
                self.put(operator, 0);
            }
            self.place(operand, 1, operand_trail);
        }
    }

    /// Writes `doc` on the open line.
    fn flat(&mut self, doc: Doc, gap: usize) {
        match doc {
            Doc::Flat(pieces) => {
                for (index, piece) in pieces.into_iter().enumerate() {
                    let gap = if index == 0 { gap } else { piece.gap };
                    self.put(piece, gap);
                }
            }
            Doc::Not(word, inner) => {
                self.put(word, gap);
                self.flat(*inner, 1);
            }
            Doc::Paren(open, inner, close) => {
                self.put(open, gap);
                self.flat(*inner, 0);
                self.put(close, 0);
            }
            Doc::Chain(operands, operators) => {
                let mut operators = operators.into_iter();
                for (index, operand) in operands.into_iter().enumerate() {
                    if index == 0 {
                        self.flat(operand, gap);
                        continue;
                    }
                    if let Some(operator) = operators.next() {
                        self.put(operator, 1);
                    }
                    self.flat(operand, 1);
                }
            }
        }
    }
}
