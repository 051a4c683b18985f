//! Laid-out statements and their comments to text.

use super::attach::Attached;
use super::layout::Line;
use super::lex::Comment;

/// A statement ready to print.
pub(super) struct Laid {
    /// Its lines.
    pub lines: Vec<Line>,
    /// Whether an empty line came right before it.
    pub blank_before: bool,
}

/// One output line.
enum OutLine {
    /// An empty line.
    Blank,
    /// A comment on its own line, indented.
    Comment(String),
    /// Words, and the comment after them if any.
    Code(String, Option<String>),
}

/// Output lines; empty lines are kept single and never lead the text.
#[derive(Default)]
struct Output {
    lines: Vec<OutLine>,
}

impl Output {
    fn blank(&mut self) {
        if self
            .lines
            .last()
            .is_some_and(|line| !matches!(line, OutLine::Blank))
        {
            self.lines.push(OutLine::Blank);
        }
    }

    fn code(&mut self, code: String, comment: Option<&Comment>) {
        let code = code.trim_end().to_string();
        self.lines
            .push(OutLine::Code(code, comment.map(|c| c.text.clone())));
    }

    fn comments(&mut self, comments: &[Comment], indent: usize, keep_blanks: bool) {
        for comment in comments {
            if keep_blanks && comment.blank_before {
                self.blank();
            }
            self.lines.push(OutLine::Comment(format!(
                "{}{}",
                " ".repeat(indent),
                comment.text
            )));
        }
    }

    /// The text: comments after words on consecutive lines start in one column, one
    /// space after the longest of those lines.
    fn finish(self) -> String {
        let mut text = String::new();
        let mut rest = self.lines.as_slice();
        while !rest.is_empty() {
            let commented = rest
                .iter()
                .take_while(|line| matches!(line, OutLine::Code(_, Some(_))))
                .count();
            let (run, after) = rest.split_at(commented.max(1).min(rest.len()));
            let column = run
                .iter()
                .take(commented)
                .map(|line| match line {
                    OutLine::Code(code, _) => code.chars().count(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            for line in run {
                match line {
                    OutLine::Blank => {}
                    OutLine::Comment(comment) => text.push_str(comment),
                    OutLine::Code(code, None) => text.push_str(code),
                    OutLine::Code(code, Some(comment)) => {
                        let pad = column.saturating_sub(code.chars().count()) + 1;
                        text.push_str(code);
                        text.push_str(&" ".repeat(pad));
                        text.push_str(comment);
                    }
                }
                text.push('\n');
            }
            rest = after;
        }
        text
    }
}

/// The text of a file: statements with the comments attached to them.
pub(super) fn render(statements: &[Laid], attached: &Attached) -> String {
    let mut out = Output::default();
    let none = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let leading = attached.statements.get(index).unwrap_or(&none);
        out.comments(leading, 0, true);
        if statement.blank_before {
            out.blank();
        }
        for line in &statement.lines {
            write_line(&mut out, line, attached);
        }
    }
    out.comments(&attached.trailer, 0, true);
    out.finish()
}

/// One laid-out line, broken further where comments need it.
fn write_line(out: &mut Output, line: &Line, attached: &Attached) {
    let mut current = " ".repeat(line.indent);
    let mut current_indent = line.indent;
    let mut empty = true;
    let none = super::attach::PieceComments::default();
    for (index, piece) in line.pieces.iter().enumerate() {
        let comments = attached.pieces.get(piece.id).unwrap_or(&none);
        let break_indent = piece.break_indent.unwrap_or(line.indent + 2);
        if !comments.leading.is_empty() {
            if empty {
                let indent = piece.comment_indent.unwrap_or(current_indent);
                out.comments(&comments.leading, indent, false);
            } else {
                out.code(std::mem::take(&mut current), None);
                let indent = piece.comment_indent.unwrap_or(break_indent);
                out.comments(&comments.leading, indent, false);
                current = " ".repeat(break_indent);
                current_indent = break_indent;
                empty = true;
            }
        }
        if !empty {
            current.push_str(&" ".repeat(piece.gap));
        }
        current.push_str(&piece.text);
        empty = false;
        if let Some(trailing) = &comments.trailing {
            let code = std::mem::take(&mut current);
            out.code(code, Some(trailing));
            if let Some(next) = line.pieces.get(index + 1) {
                current_indent = next.break_indent.unwrap_or(line.indent + 2);
                current = " ".repeat(current_indent);
                empty = true;
            } else {
                return;
            }
        }
    }
    out.code(current, None);
}
