//! PocketBase's rule and filter language (the subset edgefs supports), parsed once and
//! evaluated against a request's auth, body and method and a record's fields.
//!
//! ```text
//! @request.auth.id != "" && (owner = @request.auth.id || public = true)
//! ```
//!
//! Operators `= != > >= < <= ~ !~`, `&&`, `||`, parentheses; string (`'…'` or
//! `"…"`), number, `true`/`false`/`null` literals; record fields (`owner`,
//! `author.name` is not supported), `@request.auth.*`, `@request.body.*`,
//! `@request.method`. A rule that does not parse is an error with its position,
//! reported when the collections load, never at request time.

mod ast;
mod eval;
mod lexer;
mod parser;

pub use ast::{Expr, Operand, Operator};
pub(crate) use eval::{as_number, as_text, compare};
pub use eval::{Context, Value};
pub use parser::{parse, ParseError};

/// A parsed rule. `Rule::parse("")` is the empty rule, which lets everyone through;
/// so is `Rule::default()`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    expr: Option<Expr>,
}

impl Rule {
    /// Parses a rule; blank text is the empty rule, which lets everyone through.
    pub fn parse(text: &str) -> Result<Rule, ParseError> {
        if text.trim().is_empty() {
            return Ok(Rule { expr: None });
        }
        parse(text).map(|expr| Rule { expr: Some(expr) })
    }

    /// True when the context satisfies the rule.
    pub fn allows(&self, context: &Context<'_>) -> bool {
        self.expr.as_ref().is_none_or(|expr| expr.evaluate(context))
    }

    /// The parsed expression; `None` for the empty rule.
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.expr {
            Some(expr) => expr.fmt(f),
            None => Ok(()),
        }
    }
}
