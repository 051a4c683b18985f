//! The principal as the claims map derives it, keeping where each part came from.

use serde_json::{Map, Value};

use super::{
    ClaimSource, EffectiveScope, Explainer, GrantedRole, Holding, PrincipalFacts, TokenScope,
};
use crate::claim_path::ClaimPath;
use crate::principal::ClaimsReading;

/// A derived principal: the facts shown, and the sets conditions read.
pub(super) struct Derived<'c> {
    /// What is shown.
    pub facts: PrincipalFacts,
    /// The token's claims.
    pub claims: &'c Map<String, Value>,
    /// Effective roles, by role index.
    pub roles: Vec<bool>,
    /// Effective scopes, by scope index.
    pub scopes: Vec<bool>,
    /// The known scopes the token carries, by index, in token order.
    token_scopes: Vec<usize>,
}

/// Derives the principal of the claims `reading` reads, keeping where each part came
/// from; the reading is the engine's ([`ClaimsReading`]).
pub(super) fn derive<'c>(
    explainer: &Explainer<'_>,
    reading: &ClaimsReading<'_, 'c>,
) -> Derived<'c> {
    let mut facts = PrincipalFacts {
        subject: reading.subject().map(str::to_string),
        client: reading.client().map(|(path, client)| source(client, path)),
        granted_roles: Vec::new(),
        inherited_roles: Vec::new(),
        ignored_role_values: Vec::new(),
        token_scopes: Vec::new(),
        effective_scopes: Vec::new(),
    };
    let roles = grant_roles(explainer, reading, &mut facts);
    let (scopes, token_scopes) = hold_scopes(explainer, reading, &mut facts);
    Derived {
        facts,
        claims: reading.claims(),
        roles,
        scopes,
        token_scopes,
    }
}

fn source(value: &str, path: &ClaimPath) -> ClaimSource {
    ClaimSource {
        value: value.to_string(),
        path: path.to_string(),
    }
}

fn grant_roles(
    explainer: &Explainer<'_>,
    reading: &ClaimsReading<'_, '_>,
    facts: &mut PrincipalFacts,
) -> Vec<bool> {
    let policy = explainer.policy;
    let mut granted: Vec<usize> = Vec::new();
    reading.each_role_value(|path, value| {
        let mut any = false;
        for (index, role) in policy.roles.iter().enumerate() {
            if !role.values().any(|granting| granting == value) {
                continue;
            }
            any = true;
            match granted.iter().position(|known| *known == index) {
                Some(at) => {
                    if let Some(role) = facts.granted_roles.get_mut(at) {
                        role.from.push(source(value, path));
                    }
                }
                None => {
                    granted.push(index);
                    facts.granted_roles.push(GrantedRole {
                        role: role.name.clone(),
                        from: vec![source(value, path)],
                    });
                }
            }
        }
        if !any {
            facts.ignored_role_values.push(source(value, path));
        }
    });
    let mut effective = vec![false; policy.roles.len()];
    granted.iter().for_each(|index| set(&mut effective, *index));
    for index in &granted {
        for inherited in explainer.role_closure.get(*index).into_iter().flatten() {
            if effective.get(*inherited) == Some(&false) {
                set(&mut effective, *inherited);
                if let Some(role) = policy.roles.get(*inherited) {
                    facts.inherited_roles.push(role.name.clone());
                }
            }
        }
    }
    effective
}

fn hold_scopes(
    explainer: &Explainer<'_>,
    reading: &ClaimsReading<'_, '_>,
    facts: &mut PrincipalFacts,
) -> (Vec<bool>, Vec<usize>) {
    let policy = explainer.policy;
    let mut carried: Vec<usize> = Vec::new();
    reading.each_scope_value(|path, value| {
        let known = policy.scopes.iter().position(|scope| scope.name == value);
        facts.token_scopes.push(TokenScope {
            source: source(value, path),
            known: known.is_some(),
        });
        if let Some(index) = known.filter(|index| !carried.contains(index)) {
            carried.push(index);
        }
    });
    let mut effective = vec![false; policy.scopes.len()];
    let mut order: Vec<(usize, Option<usize>)> = Vec::new();
    for index in &carried {
        set(&mut effective, *index);
        order.push((*index, None));
    }
    for index in &carried {
        for implied in explainer.scope_closure.get(*index).into_iter().flatten() {
            if effective.get(*implied) == Some(&false) {
                set(&mut effective, *implied);
                order.push((*implied, Some(*index)));
            }
        }
    }
    facts.effective_scopes = order
        .into_iter()
        .map(|(scope, implied_by)| EffectiveScope {
            scope: explainer.scope_name(scope),
            implied_by: implied_by.map(|by| explainer.scope_name(by)),
        })
        .collect();
    (effective, carried)
}

fn set(flags: &mut [bool], index: usize) {
    if let Some(flag) = flags.get_mut(index) {
        *flag = true;
    }
}

impl<'c> Derived<'c> {
    /// How the principal holds scope `index`.
    pub fn holding(&self, explainer: &Explainer<'_>, index: usize) -> Holding {
        if !self.scopes.get(index).copied().unwrap_or(false) {
            return Holding::Missing;
        }
        if self.token_scopes.contains(&index) {
            return Holding::Token;
        }
        let implying = self.token_scopes.iter().find(|carried| {
            explainer
                .scope_closure
                .get(**carried)
                .is_some_and(|closure| closure.contains(&index))
        });
        match implying {
            Some(carried) => Holding::Implied(explainer.scope_name(*carried)),
            None => Holding::Token,
        }
    }

    /// The same principal, were the token to carry `added` too; `scopes` are the
    /// effective scopes then.
    pub fn with_added(&self, added: &[usize], scopes: Vec<bool>) -> Derived<'c> {
        let mut token_scopes = self.token_scopes.clone();
        token_scopes.extend(
            added
                .iter()
                .filter(|scope| !self.token_scopes.contains(scope)),
        );
        Derived {
            facts: self.facts.clone(),
            claims: self.claims,
            roles: self.roles.clone(),
            scopes,
            token_scopes,
        }
    }

    /// Whether role `index` is effective.
    pub fn has_role(&self, index: usize) -> bool {
        self.roles.get(index).copied().unwrap_or(false)
    }
}
