//! Definitions: time zone, claims map, scopes, roles, networks and windows, in any order
//! and any file. Duplicates are E002; role and scope cycles E004 and E011.

use ahash::AHashMap;

use super::{graph, values, Checker, ClaimsMap, Role};
use crate::ast::{self, StatementKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::ids::{NetworkId, RoleId, ScopeId, WindowId};
use crate::net::{Network, WrittenRange};
use crate::source::Span;
use crate::window::WindowSpec;

impl<'a> Checker<'a> {
    /// Collects every definition, then resolves what definitions refer to.
    pub(super) fn define(&mut self, policy: &'a ast::SyntaxTree) {
        let mut first_timezone: Option<Span> = None;
        let mut first_claims: Option<Span> = None;
        for statement in &policy.statements {
            match &statement.kind {
                StatementKind::Timezone(zone) => {
                    let what = ("timezone", "`timezone` statement");
                    if self.first_only(what, statement.span, &mut first_timezone) {
                        self.set_timezone(zone);
                    }
                }
                StatementKind::Claims(block) => {
                    let what = ("claims", "`claims` block");
                    if self.first_only(what, statement.span, &mut first_claims) {
                        self.claims_block(block);
                    }
                }
                StatementKind::Scope(declaration) => self.scope_declaration(declaration),
                StatementKind::Role(role) => self.declare_role(role),
                _ => {}
            }
        }
        self.declare_networks_and_windows(policy);
        self.resolve_parents(policy);
    }

    /// Reports E002 for a second single-instance statement; true for the first.
    fn first_only(
        &mut self,
        (keyword, what): (&str, &str),
        span: Span,
        first: &mut Option<Span>,
    ) -> bool {
        match first {
            Some(previous) => {
                let previous = *previous;
                self.report(
                    Diagnostic::new(Code::E002, span, format!("second {what}"))
                        .with_label(previous, format!("the first `{keyword}` is here"))
                        .with_help(format!("a policy has at most one `{keyword}`; merge them")),
                );
                false
            }
            None => {
                *first = Some(span);
                true
            }
        }
    }

    fn set_timezone(&mut self, zone: &ast::Text) {
        match values::time_zone(zone) {
            Ok(zone) => self.timezone = zone,
            Err(diagnostic) => self.report(diagnostic),
        }
    }

    fn claims_block(&mut self, block: &ast::ClaimsBlock) {
        let mut seen: AHashMap<ast::ClaimField, Span> = AHashMap::new();
        let mut claims = ClaimsMap::default();
        for line in &block.lines {
            if let Some(previous) = seen.insert(line.field, line.field_span) {
                let keyword = line.field.keyword();
                self.report(
                    Diagnostic::new(
                        Code::E002,
                        line.field_span,
                        format!("second `{keyword}` line in the claims block"),
                    )
                    .with_label(previous, "the first one is here")
                    .with_help("list every claim path on one line, in priority order"),
                );
                continue;
            }
            let paths = line
                .paths
                .iter()
                .map(|path| self.claim_path(path))
                .collect();
            match line.field {
                ast::ClaimField::Roles => claims.roles = paths,
                ast::ClaimField::Scopes => claims.scopes = paths,
                ast::ClaimField::Client => claims.client = paths,
            }
        }
        self.claims = claims;
    }

    fn scope_declaration(&mut self, declaration: &ast::ScopeDecl) {
        let declared: Vec<ScopeId> = declaration
            .scopes
            .iter()
            .map(|text| self.scope(text, true))
            .collect();
        for target in &declaration.implies {
            let implied = self.scope(target, false);
            for broader in &declared {
                if let Some(scope) = self.scopes.get_mut(broader.index()) {
                    if !scope.implies.contains(&implied) {
                        scope.implies.push(implied);
                    }
                }
                self.implication_spans
                    .entry((*broader, implied))
                    .or_insert(target.span);
            }
        }
    }

    fn declare_role(&mut self, role: &'a ast::RoleDecl) {
        if let Some(first) = self.role_ids.get(role.name.name.as_str()) {
            let first = self.roles.get(first.index()).map(|role| role.span);
            self.duplicate("role", &role.name, first);
            return;
        }
        let id = RoleId::from_index(self.roles.len());
        self.role_ids.insert(&role.name.name, id);
        self.roles.push(Role {
            name: role.name.name.clone(),
            parents: Vec::new(),
            aka: role.aka.iter().map(|text| text.value.clone()).collect(),
            span: role.name.span,
        });
        // A role that inherits others bundles them: it is in use even if no rule names it.
        self.role_used.push(!role.inherits.is_empty());
    }

    fn duplicate(&mut self, what: &str, name: &ast::Ident, first: Option<Span>) {
        let mut diagnostic = Diagnostic::new(
            Code::E002,
            name.span,
            format!("{what} `{}` is defined twice", name.name),
        )
        .with_help(format!(
            "rename one of them or merge the two `{what}` statements"
        ));
        if let Some(first) = first {
            diagnostic = diagnostic.with_label(first, "first defined here");
        }
        self.report(diagnostic);
    }

    fn declare_networks_and_windows(&mut self, policy: &'a ast::SyntaxTree) {
        let mut network_spans: AHashMap<&str, Span> = AHashMap::new();
        let mut window_spans: AHashMap<&str, Span> = AHashMap::new();
        for statement in &policy.statements {
            match &statement.kind {
                StatementKind::Network(network) => {
                    let name = network.name.name.as_str();
                    if let Some(first) = network_spans.get(name) {
                        self.duplicate("network", &network.name, Some(*first));
                        continue;
                    }
                    network_spans.insert(name, network.name.span);
                    let id = self.add_network(&network.cidrs);
                    self.network_ids.insert(name, id);
                }
                StatementKind::Window(window) => {
                    let name = window.name.name.as_str();
                    if let Some(first) = window_spans.get(name) {
                        self.duplicate("window", &window.name, Some(*first));
                        continue;
                    }
                    window_spans.insert(name, window.name.span);
                    let id = self.add_window(&window.window);
                    self.window_ids.insert(name, id);
                }
                _ => {}
            }
        }
    }

    /// Validates and adds a network (named or inline); an invalid one is added empty.
    pub(super) fn add_network(&mut self, cidrs: &[ast::Cidr]) -> NetworkId {
        let mut ranges = Vec::new();
        for cidr in cidrs {
            match values::cidr(cidr) {
                Ok(parsed) => {
                    if let Some(warning) = values::host_bits_warning(cidr, &parsed) {
                        self.report(warning);
                    }
                    ranges.push(WrittenRange {
                        text: cidr.text.clone(),
                        network: parsed.network,
                    });
                }
                Err(diagnostic) => self.report(diagnostic),
            }
        }
        let id = NetworkId::from_index(self.networks.len());
        self.networks.push(Network::new(ranges));
        id
    }

    /// Validates and adds a window (named or inline); an invalid one is added empty.
    pub(super) fn add_window(&mut self, window: &ast::Window) -> WindowId {
        let spec = match values::window(window, &self.timezone) {
            Ok(spec) => spec,
            Err(problems) => {
                self.diagnostics.extend(problems);
                WindowSpec {
                    days: 0,
                    hours: None,
                    zone: self.timezone.clone(),
                }
            }
        };
        let id = WindowId::from_index(self.windows.len());
        self.windows.push(spec);
        id
    }

    fn resolve_parents(&mut self, policy: &'a ast::SyntaxTree) {
        for statement in &policy.statements {
            let StatementKind::Role(role) = &statement.kind else {
                continue;
            };
            let Some(id) = self.role_ids.get(role.name.name.as_str()).copied() else {
                continue;
            };
            let first_declaration = self
                .roles
                .get(id.index())
                .is_some_and(|declared| declared.span == role.name.span);
            if !first_declaration {
                continue;
            }
            let parents: Vec<RoleId> = role
                .inherits
                .iter()
                .filter_map(|parent| self.role_use(parent))
                .collect();
            if let Some(declared) = self.roles.get_mut(id.index()) {
                declared.parents = parents;
            }
        }
    }

    /// E004 for role inheritance cycles, E011 for scope implication cycles.
    pub(super) fn check_cycles(&mut self) {
        let parents: Vec<Vec<usize>> = self
            .roles
            .iter()
            .map(|role| role.parents.iter().map(|parent| parent.index()).collect())
            .collect();
        for cycle in graph::cycles(&parents) {
            self.role_cycle(&cycle);
        }
        let implies: Vec<Vec<usize>> = self
            .scopes
            .iter()
            .map(|scope| scope.implies.iter().map(|scope| scope.index()).collect())
            .collect();
        for cycle in graph::cycles(&implies) {
            self.scope_cycle(&cycle);
        }
    }

    fn role_cycle(&mut self, cycle: &[usize]) {
        let names: Vec<&str> = cycle
            .iter()
            .chain(cycle.first())
            .filter_map(|index| self.roles.get(*index))
            .map(|role| role.name.as_str())
            .collect();
        let path = names.join("` inherits `");
        let Some(first) = cycle.first().and_then(|index| self.roles.get(*index)) else {
            return;
        };
        let mut diagnostic = Diagnostic::new(
            Code::E004,
            first.span,
            format!("role `{}` inherits itself", first.name),
        )
        .with_primary_label(format!("`{path}`"))
        .with_help("role inheritance must not loop; remove one `inherits` of the cycle");
        if let Some(last) = cycle.last().filter(|_| cycle.len() > 1) {
            if let Some(other) = self.roles.get(*last) {
                diagnostic = diagnostic.with_label(other.span, "the cycle closes here");
            }
        }
        self.report(diagnostic);
    }

    fn scope_cycle(&mut self, cycle: &[usize]) {
        let names: Vec<&str> = cycle
            .iter()
            .chain(cycle.first())
            .filter_map(|index| self.scopes.get(*index))
            .map(|scope| scope.name.as_str())
            .collect();
        let path = names.join("` implies `");
        let closing = match (cycle.last(), cycle.first()) {
            (Some(last), Some(first)) => self
                .implication_spans
                .get(&(ScopeId::from_index(*last), ScopeId::from_index(*first)))
                .copied(),
            _ => None,
        };
        let Some(span) = closing else {
            return;
        };
        let first = names.first().copied().unwrap_or_default();
        self.report(
            Diagnostic::new(Code::E011, span, format!("scope `{first}` implies itself"))
                .with_primary_label(format!("`{path}`"))
                .with_help("scope implication must not loop; remove one `implies` of the cycle"),
        );
    }
}
