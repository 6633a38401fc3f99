//! The syntax tree, and its canonical printed form.

use std::fmt;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `~`: contains, case-insensitive; `%` in the pattern is a wildcard.
    Like,
    /// `!~`: does not contain, case-insensitive; `%` in the pattern is a wildcard.
    NotLike,
}

impl Operator {
    /// The operator as written in a rule (`>=`).
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "=",
            Operator::NotEqual => "!=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Like => "~",
            Operator::NotLike => "!~",
        }
    }
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A record field, `@request.auth.*`, `@request.body.*` or `@request.method`.
    Identifier(String),
    /// A string literal, unquoted and unescaped.
    Text(String),
    /// A number literal.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A parsed rule: comparisons joined by `&&` and `||`. It prints back as a canonical
/// rule text.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `left operator right`.
    Compare(Operand, Operator, Operand),
    /// `left && right`.
    And(Box<Expr>, Box<Expr>),
    /// `left || right`.
    Or(Box<Expr>, Box<Expr>),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Identifier(name) => f.write_str(name),
            Operand::Text(text) => {
                f.write_str("\"")?;
                for ch in text.chars() {
                    if ch == '"' || ch == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{ch}")?;
                }
                f.write_str("\"")
            }
            Operand::Number(n) => f.write_str(&crate::numbers::format(*n)),
            Operand::Bool(b) => write!(f, "{b}"),
            Operand::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for Expr {
    /// Prints with the fewest parentheses that keep the meaning (`&&` binds tighter than `||`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Compare(left, op, right) => write!(f, "{left} {} {right}", op.symbol()),
            Expr::Or(left, right) => write!(f, "{left} || {right}"),
            Expr::And(left, right) => {
                let side = |e: &Expr, f: &mut fmt::Formatter<'_>| match e {
                    Expr::Or(..) => write!(f, "({e})"),
                    _ => write!(f, "{e}"),
                };
                side(left, f)?;
                f.write_str(" && ")?;
                side(right, f)
            }
        }
    }
}
