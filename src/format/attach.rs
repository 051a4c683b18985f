//! Which word each comment goes with.
//!
//! A comment after a word on the same line (a trailing comment) stays after that word,
//! at the end of its line. A comment on a line of its own stays before the word it
//! preceded: before the statement when it came before the statement's first word,
//! inside the statement otherwise, or at the end of the file after the last statement.

use super::lex::Comment;

/// The comments of one piece.
#[derive(Debug, Clone, Default)]
pub(super) struct PieceComments {
    /// Comments on their own lines before it.
    pub leading: Vec<Comment>,
    /// The comment after it on its line.
    pub trailing: Option<Comment>,
}

/// Every comment of a file, attached.
#[derive(Debug, Clone, Default)]
pub(super) struct Attached {
    /// By piece id.
    pub pieces: Vec<PieceComments>,
    /// Comments on their own lines before each statement.
    pub statements: Vec<Vec<Comment>>,
    /// Comments after the last statement.
    pub trailer: Vec<Comment>,
}

/// Attaches `comments` to pieces given their source ranges `anchors` (by id, in source
/// order) and the id of each statement's first piece (`firsts`, ascending).
pub(super) fn attach(
    comments: &[Comment],
    anchors: &[(usize, usize)],
    firsts: &[usize],
) -> Attached {
    let mut attached = Attached {
        pieces: vec![PieceComments::default(); anchors.len()],
        statements: vec![Vec::new(); firsts.len()],
        trailer: Vec::new(),
    };
    for comment in comments {
        let mut comment = comment.clone();
        // The first piece a comment on its own line goes before.
        let mut before = anchors.partition_point(|&(_, end)| end <= comment.start);
        if !comment.own_line {
            let after = anchors.partition_point(|&(start, _)| start < comment.start);
            let slot = after
                .checked_sub(1)
                .and_then(|index| attached.pieces.get_mut(index));
            match slot {
                Some(slot) if slot.trailing.is_none() => {
                    slot.trailing = Some(comment);
                    continue;
                }
                Some(_) => {
                    // A second comment after the same piece (it stands for several
                    // lines of text): it goes on its own line after that piece.
                    comment.own_line = true;
                    comment.blank_before = false;
                    before = after;
                }
                None => comment.own_line = true,
            }
        }
        let statement = firsts
            .binary_search(&before)
            .ok()
            .and_then(|statement| attached.statements.get_mut(statement));
        if before >= anchors.len() {
            attached.trailer.push(comment);
        } else if let Some(statement) = statement {
            statement.push(comment);
        } else if let Some(piece) = attached.pieces.get_mut(before) {
            piece.leading.push(comment);
        } else {
            attached.trailer.push(comment);
        }
    }
    attached
}
