//! The checker: resolves names, validates values, and lints a parsed policy.
//!
//! Every error (E002-E011) and warning (W001-W008) of the language is found in one run;
//! a policy with errors yields its diagnostics and no [`CheckedPolicy`].

mod definitions;
mod graph;
mod ir;
mod lints;
mod lower;
mod manifest;
mod schema;
mod values;

use ahash::AHashMap;
use jiff::tz::TimeZone;

pub use ir::{
    ActionSet, ArgOp, ArgTest, Body, CheckedPolicy, ClaimLines, ClaimTest, ClaimsMap, Cond,
    CondKind, Role, Scope, Statement, Subjects,
};
pub use manifest::{ListedTool, ManifestError, Property, ToolAnnotations, ToolManifest};

use crate::ast;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::ids::{NetworkId, RoleId, ScopeId, WindowId};
use crate::net::Network;
use crate::source::Span;
use crate::window::WindowSpec;

/// What the checker is given besides the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config<'a> {
    /// The server's tools (`tools/list` result), enabling W006, W007 and W009.
    pub tools: Option<&'a ToolManifest>,
    /// The syntax tree lacks statements that failed to parse: skip the warnings about
    /// unused roles and undeclared scopes (W001, W002), which those statements may have
    /// used or declared.
    pub incomplete: bool,
}

/// The checker's result.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every problem found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The checked policy, when there is no error.
    pub policy: Option<CheckedPolicy>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks a parsed policy.
pub fn check(policy: &ast::SyntaxTree, config: &Config<'_>) -> Checked {
    let mut checker = Checker::new();
    checker.define(policy);
    checker.lower_statements(policy);
    checker.check_cycles();
    if !config.incomplete {
        checker.unused_and_undeclared();
    }
    let has_errors = checker.diagnostics.iter().any(Diagnostic::is_error);
    let mut diagnostics = std::mem::take(&mut checker.diagnostics);
    let policy = (!has_errors).then(|| checker.finish());
    if let Some(policy) = &policy {
        diagnostics.extend(lints::lint(policy, config));
    }
    diagnostics.sort_by_key(|diagnostic| {
        (
            diagnostic.span.source,
            diagnostic.span.start,
            diagnostic.code,
        )
    });
    Checked {
        diagnostics,
        policy,
    }
}

/// The checker's working state: symbol tables filled by [`definitions`], statements
/// lowered by [`lower`].
struct Checker<'a> {
    diagnostics: Vec<Diagnostic>,
    timezone: TimeZone,
    claims: ClaimsMap,
    roles: Vec<Role>,
    role_ids: AHashMap<&'a str, RoleId>,
    role_used: Vec<bool>,
    scopes: Vec<Scope>,
    scope_ids: AHashMap<String, ScopeId>,
    scope_first_use: Vec<Option<Span>>,
    implication_spans: AHashMap<(ScopeId, ScopeId), Span>,
    networks: Vec<Network>,
    network_ids: AHashMap<&'a str, NetworkId>,
    windows: Vec<WindowSpec>,
    window_ids: AHashMap<&'a str, WindowId>,
    statements: Vec<Statement>,
}

impl<'a> Checker<'a> {
    fn new() -> Checker<'a> {
        Checker {
            diagnostics: Vec::new(),
            timezone: TimeZone::UTC,
            claims: ClaimsMap::default(),
            roles: Vec::new(),
            role_ids: AHashMap::new(),
            role_used: Vec::new(),
            scopes: Vec::new(),
            scope_ids: AHashMap::new(),
            scope_first_use: Vec::new(),
            implication_spans: AHashMap::new(),
            networks: Vec::new(),
            network_ids: AHashMap::new(),
            windows: Vec::new(),
            window_ids: AHashMap::new(),
            statements: Vec::new(),
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The id of a scope string, interning it; `declared` marks a declaration.
    fn scope(&mut self, text: &ast::Text, declared: bool) -> ScopeId {
        let id = match self.scope_ids.get(&text.value) {
            Some(id) => *id,
            None => {
                let id = ScopeId::from_index(self.scopes.len());
                self.scopes.push(Scope {
                    name: text.value.clone(),
                    declared: false,
                    implies: Vec::new(),
                });
                self.scope_first_use.push(None);
                self.scope_ids.insert(text.value.clone(), id);
                id
            }
        };
        if declared {
            if let Some(scope) = self.scopes.get_mut(id.index()) {
                scope.declared = true;
            }
        } else if let Some(slot @ None) = self.scope_first_use.get_mut(id.index()) {
            *slot = Some(text.span);
        }
        id
    }

    /// Resolves a role name used somewhere (E003 when undefined).
    fn role_use(&mut self, name: &ast::Ident) -> Option<RoleId> {
        let found = self.role_ids.get(name.name.as_str()).copied();
        match found {
            Some(id) => {
                if let Some(used) = self.role_used.get_mut(id.index()) {
                    *used = true;
                }
            }
            None => {
                let candidates: Vec<&str> = self.role_ids.keys().copied().collect();
                self.undefined("role", name, candidates);
            }
        }
        found
    }

    fn undefined(&mut self, what: &str, name: &ast::Ident, candidates: Vec<&str>) {
        let help = did_you_mean(&name.name, candidates)
            .unwrap_or_else(|| format!("declare it with `{what} {} ...`", name.name));
        self.report(
            Diagnostic::new(
                Code::E003,
                name.span,
                format!("undefined {what} `{}`", name.name),
            )
            .with_primary_label(format!("no {what} of this name is declared"))
            .with_help(help),
        );
    }

    /// W001 for roles nobody refers to, W002 for scopes used but not declared.
    fn unused_and_undeclared(&mut self) {
        let mut found = Vec::new();
        for (role, used) in self.roles.iter().zip(&self.role_used) {
            if !used {
                found.push(
                    Diagnostic::new(
                        Code::W001,
                        role.span,
                        format!("role `{}` is declared but never used", role.name),
                    )
                    .with_help("grant it something in a rule, inherit it, or remove it"),
                );
            }
        }
        let any_declared = self.scopes.iter().any(|scope| scope.declared);
        let declared: Vec<&str> = self
            .scopes
            .iter()
            .filter(|scope| scope.declared)
            .map(|scope| scope.name.as_str())
            .collect();
        for (scope, first_use) in self.scopes.iter().zip(&self.scope_first_use) {
            if let (true, false, Some(span)) = (any_declared, scope.declared, first_use) {
                let help = did_you_mean(&scope.name, declared.iter().copied())
                    .unwrap_or_else(|| format!("declare it with `scope \"{}\"`", scope.name));
                found.push(
                    Diagnostic::new(
                        Code::W002,
                        *span,
                        format!("scope `{}` is used but not declared", scope.name),
                    )
                    .with_help(help),
                );
            }
        }
        self.diagnostics.extend(found);
    }

    fn finish(self) -> CheckedPolicy {
        CheckedPolicy {
            timezone: self.timezone,
            claims: self.claims,
            roles: self.roles,
            scopes: self.scopes,
            networks: self.networks,
            windows: self.windows,
            statements: self.statements,
        }
    }
}

#[cfg(test)]
mod tests;
