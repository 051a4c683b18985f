//! Pieces: the words the formatter prints, each tied to the place in the source text
//! it stands for, so that comments can be put back next to the same words.

use crate::source::Span;

/// One printed word (a keyword, a name, a literal, a punctuation mark, or a short run
/// of them that is never split, such as `mon-fri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Piece {
    /// Its number, in source order over the whole file.
    pub id: usize,
    /// The text printed.
    pub text: String,
    /// Spaces before it when it is not the first on its line.
    pub gap: usize,
    /// The comma-separated list it is an item of, if any.
    pub list: Option<ListTag>,
    /// The indentation of a line starting with it when a comment forces a break before
    /// it (set during layout).
    pub break_indent: Option<usize>,
    /// The indentation of comments on their own line before it, when not that of its
    /// line.
    pub comment_indent: Option<usize>,
}

impl Piece {
    /// The piece with `gap` spaces before it.
    pub fn gap(mut self, gap: usize) -> Piece {
        self.gap = gap;
        self
    }

    /// Its width in characters.
    pub fn width(&self) -> usize {
        self.text.chars().count()
    }
}

/// Which list a piece is an item of, and whether it is the first item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ListTag {
    /// The list's number.
    pub list: usize,
    /// Whether the piece is the list's first item (a list breaks only after a comma).
    pub first: bool,
}

/// Makes pieces in source order, finding where each stands in the text.
pub(super) struct Maker<'a> {
    text: &'a str,
    tokens: &'a [(usize, usize)],
    /// The byte range each piece stands for, by piece id.
    pub anchors: Vec<(usize, usize)>,
    /// Where the next piece is looked for.
    position: usize,
    /// The end of the current statement.
    limit: usize,
    lists: usize,
}

impl<'a> Maker<'a> {
    /// A maker over `text` and its tokens.
    pub fn new(text: &'a str, tokens: &'a [(usize, usize)]) -> Maker<'a> {
        Maker {
            text,
            tokens,
            anchors: Vec::new(),
            position: 0,
            limit: text.len(),
            lists: 0,
        }
    }

    /// Starts on the statement spanning `span`.
    pub fn statement(&mut self, span: Span) {
        self.position = span.start as usize;
        self.limit = span.end as usize;
    }

    /// The id the next piece will get.
    pub fn next_id(&self) -> usize {
        self.anchors.len()
    }

    fn push(&mut self, text: String, start: usize, end: usize) -> Piece {
        let id = self.anchors.len();
        self.anchors.push((start, end));
        self.position = self.position.max(end);
        Piece {
            id,
            text,
            gap: 1,
            list: None,
            break_indent: None,
            comment_indent: None,
        }
    }

    /// A keyword or punctuation mark: the next token in the statement that reads `word`.
    pub fn word(&mut self, word: &str) -> Piece {
        let first = self
            .tokens
            .partition_point(|&(start, _)| start < self.position);
        let found = self
            .tokens
            .get(first..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&(start, _)| start < self.limit)
            .find(|&&(start, end)| self.text.get(start..end) == Some(word))
            .copied();
        match found {
            Some((start, end)) => self.push(word.to_string(), start, end),
            None => self.synthetic(word),
        }
    }

    /// A word the source does not have (a parenthesis precedence needs).
    pub fn synthetic(&mut self, word: &str) -> Piece {
        let at = self.position;
        self.push(word.to_string(), at, at)
    }

    /// `text` standing for the source text at `span`.
    pub fn spanned(&mut self, text: String, span: Span) -> Piece {
        self.push(text, span.start as usize, span.end as usize)
    }

    /// The source text at `span`, as written.
    pub fn verbatim(&mut self, span: Span) -> Piece {
        let text = self.text.get(span.range()).unwrap_or("").to_string();
        self.spanned(text, span)
    }

    /// The source text from the start of `first` to the end of `last`.
    pub fn source(&self, span: Span) -> &'a str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// A comma-separated list: each item made by `item`, a `, ` between items; the
    /// first item gets `gap` spaces before it.
    pub fn list<T>(
        &mut self,
        items: &[T],
        gap: usize,
        out: &mut Vec<Piece>,
        mut item: impl FnMut(&mut Maker<'a>, &T) -> Piece,
    ) {
        let list = self.lists;
        self.lists += 1;
        for (index, value) in items.iter().enumerate() {
            if index > 0 {
                let comma = self.word(",").gap(0);
                out.push(comma);
            }
            let mut piece = item(self, value).gap(if index == 0 { gap } else { 1 });
            piece.list = Some(ListTag {
                list,
                first: index == 0,
            });
            out.push(piece);
        }
    }
}

/// A condition, as a tree of pieces to lay out.
#[derive(Debug, Clone)]
pub(super) enum Doc {
    /// An atom: never broken.
    Flat(Vec<Piece>),
    /// `not X`.
    Not(Piece, Box<Doc>),
    /// `( X )`.
    Paren(Piece, Box<Doc>, Piece),
    /// `X op Y op Z`: the operands and the operator before each operand but the first.
    Chain(Vec<Doc>, Vec<Piece>),
}

impl Doc {
    /// Its width on one line.
    pub fn flat_width(&self) -> usize {
        match self {
            Doc::Flat(pieces) => pieces
                .iter()
                .enumerate()
                .map(|(index, piece)| piece.width() + if index == 0 { 0 } else { piece.gap })
                .sum(),
            Doc::Not(word, inner) => word.width() + 1 + inner.flat_width(),
            Doc::Paren(_, inner, _) => inner.flat_width() + 2,
            Doc::Chain(operands, operators) => {
                operands.iter().map(Doc::flat_width).sum::<usize>()
                    + operators
                        .iter()
                        .map(|operator| operator.width() + 2)
                        .sum::<usize>()
            }
        }
    }

    /// Whether it combines tests with `and` or `or`.
    pub fn is_compound(&self) -> bool {
        match self {
            Doc::Flat(_) => false,
            Doc::Not(_, inner) | Doc::Paren(_, inner, _) => inner.is_compound(),
            Doc::Chain(..) => true,
        }
    }
}
