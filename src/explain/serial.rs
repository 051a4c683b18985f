//! Serializing the explanation's foreign types by their keywords.

use serde::Serializer;

use super::Site;
use crate::ast::{Action, ConditionMode, Effect, Kind};
use crate::eval::{Reason, Truth};

pub(super) fn kind<S: Serializer>(kind: &Kind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.singular())
}

pub(super) fn action<S: Serializer>(action: &Action, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(action.keyword())
}

pub(super) fn effect<S: Serializer>(effect: &Effect, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(effect.keyword())
}

pub(super) fn reason<S: Serializer>(reason: &Reason, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(reason.as_str())
}

pub(super) fn truth<S: Serializer>(value: &Truth, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(super::words::truth_word(*value))
}

pub(super) fn mode<S: Serializer>(mode: &ConditionMode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match mode {
        ConditionMode::If => "if",
        ConditionMode::Unless => "unless",
    })
}

pub(super) fn timestamp<S: Serializer>(
    time: &jiff::Timestamp,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(time)
}

pub(super) fn site<S: Serializer>(site: &Site, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(site)
}

pub(super) fn optional_site<S: Serializer>(
    site: &Option<Site>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match site {
        Some(site) => serializer.collect_str(site),
        None => serializer.serialize_none(),
    }
}
