//! The statement evaluator: one logical line of tokens at a time, the
//! assignments and calls that set a setting, with their literal values.

use std::collections::HashMap;

use super::tokenize::{Tok, Token};
use super::{PyValue, State};

pub(super) fn logical_lines(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| t.tok == Tok::Newline)
        .filter(|s| !s.is_empty())
        .collect()
}

/// One top-level statement: read it if it sets a known setting in a way
/// this reader understands; record an error if it sets one another way.
pub(super) fn statement(stmt: &[Token], st: &mut State) {
    let line = stmt[0].line;
    let name_at = |k: usize| match stmt.get(k).map(|t| &t.tok) {
        Some(Tok::Name(n)) => Some(n.as_str()),
        _ => None,
    };
    let op_at = |k: usize| match stmt.get(k).map(|t| &t.tok) {
        Some(Tok::Op(o)) => Some(*o),
        _ => None,
    };
    // `A = B = literal`: every target a plain name.
    let mut targets: Vec<&str> = Vec::new();
    let mut k = 0;
    while let (Some(n), Some("=")) = (name_at(k), op_at(k + 1)) {
        targets.push(n);
        k += 2;
    }
    // Names as the target of an assignment, a method call (`.insert`) or a
    // `del`.
    let touched: Vec<&str> = {
        let del = name_at(0) == Some("del");
        stmt.iter()
            .enumerate()
            .filter_map(|(j, t)| match &t.tok {
                Tok::Name(n) => {
                    let changed = del
                        || matches!(stmt.get(j + 1).map(|t| &t.tok),
                            Some(Tok::Op(o)) if *o == "." || (o.ends_with('=') && !matches!(*o, "==" | "<=" | ">=" | "!=")));
                    changed.then_some(n.as_str())
                }
                _ => None,
            })
            .collect()
    };
    if stmt[0].indented {
        for n in touched {
            st.lose(n, line, "set inside a block");
        }
        return;
    }
    if !targets.is_empty() && k < stmt.len() {
        match eval(&stmt[k..], &st.env) {
            Ok(v) => {
                for t in targets {
                    st.set(t, v.clone(), line);
                }
            }
            Err(why) => {
                for t in targets {
                    st.lose(t, line, &why);
                }
            }
        }
        return;
    }
    // `NAME += literal`, `NAME.append(literal)`, `NAME.extend(literal)`.
    if let Some(name) = name_at(0) {
        let grow = match (op_at(1), name_at(2), op_at(3), stmt.last().map(|t| &t.tok)) {
            (Some("+="), ..) => Some((&stmt[2..], "+=")),
            (Some("."), Some(m @ ("append" | "extend")), Some("("), Some(Tok::Op(")"))) => {
                Some((&stmt[4..stmt.len() - 1], m))
            }
            _ => None,
        };
        if let Some((expr, how)) = grow {
            let current = st.env.get(name).cloned();
            let result = match (current, eval(expr, &st.env)) {
                (Some(cur), Ok(arg)) => match how {
                    "append" => match cur {
                        PyValue::List(mut v) => {
                            v.push(arg);
                            Ok(PyValue::List(v))
                        }
                        _ => Err("append to something not a list".to_owned()),
                    },
                    "extend" => match (cur, arg.items()) {
                        (PyValue::List(mut v), Some(more)) => {
                            v.extend_from_slice(more);
                            Ok(PyValue::List(v))
                        }
                        _ => Err("extend of something not a list".to_owned()),
                    },
                    _ => match (cur, &arg) {
                        // `list += iterable` extends in place.
                        (PyValue::List(mut v), PyValue::List(more) | PyValue::Tuple(more)) => {
                            v.extend_from_slice(more);
                            Ok(PyValue::List(v))
                        }
                        (cur, _) => add(cur, arg),
                    },
                },
                (None, _) => Err(format!("{name} has no value this reader knows")),
                (_, Err(why)) => Err(why),
            };
            match result {
                Ok(v) => st.set(name, v, line),
                Err(why) => st.lose(name, line, &why),
            }
            return;
        }
    }
    for n in touched {
        st.lose(
            n,
            line,
            "changed by a statement this reader does not follow",
        );
    }
}

/// Python's `a + b` for the literal types.
fn add(a: PyValue, b: PyValue) -> Result<PyValue, String> {
    Ok(match (a, b) {
        (PyValue::Bytes(mut x), PyValue::Bytes(y)) => {
            x.extend(y);
            PyValue::Bytes(x)
        }
        (PyValue::Text(x), PyValue::Text(y)) => PyValue::Text(x + &y),
        (PyValue::Bytes(x), PyValue::Text(y)) if x.is_ascii() => {
            PyValue::Text(String::from_utf8(x).unwrap_or_default() + &y)
        }
        (PyValue::Text(x), PyValue::Bytes(y)) if y.is_ascii() => {
            PyValue::Text(x + std::str::from_utf8(&y).unwrap_or_default())
        }
        (PyValue::List(mut x), PyValue::List(y)) => {
            x.extend(y);
            PyValue::List(x)
        }
        (PyValue::Tuple(mut x), PyValue::Tuple(y)) => {
            x.extend(y);
            PyValue::Tuple(x)
        }
        (a @ (PyValue::Int(_) | PyValue::Bool(_)), b @ (PyValue::Int(_) | PyValue::Bool(_))) => {
            PyValue::Int(
                a.as_int()
                    .unwrap_or(0)
                    .checked_add(b.as_int().unwrap_or(0))
                    .ok_or("integer overflow")?,
            )
        }
        (a, b) if a.as_f64().is_some() && b.as_f64().is_some() => {
            PyValue::Float(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))
        }
        _ => return Err("an addition this reader does not evaluate".into()),
    })
}

/// Evaluate a whole token slice as one literal expression.
fn eval(expr: &[Token], env: &HashMap<String, PyValue>) -> Result<PyValue, String> {
    let mut p = Parser { t: expr, i: 0, env };
    let v = p.tuple_or_expr()?;
    if p.i != expr.len() {
        return Err("not a plain literal".into());
    }
    Ok(v)
}

struct Parser<'a> {
    t: &'a [Token],
    i: usize,
    env: &'a HashMap<String, PyValue>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i).map(|t| &t.tok)
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    /// `a, b` at the top level is a tuple.
    fn tuple_or_expr(&mut self) -> Result<PyValue, String> {
        let first = self.expr()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.is_op(",") {
            self.i += 1;
            if self.i >= self.t.len() {
                break;
            }
            items.push(self.expr()?);
        }
        Ok(PyValue::Tuple(items))
    }
    fn expr(&mut self) -> Result<PyValue, String> {
        let mut v = self.unary()?;
        while self.is_op("+") {
            self.i += 1;
            let rhs = self.unary()?;
            v = add(v, rhs)?;
        }
        Ok(v)
    }
    fn unary(&mut self) -> Result<PyValue, String> {
        if self.is_op("-") || self.is_op("+") {
            let neg = self.is_op("-");
            self.i += 1;
            return match self.unary()? {
                PyValue::Int(n) if neg => Ok(PyValue::Int(-n)),
                PyValue::Float(f) if neg => Ok(PyValue::Float(-f)),
                v @ (PyValue::Int(_) | PyValue::Float(_)) => Ok(v),
                PyValue::Bool(b) => Ok(PyValue::Int(if neg { -(b as i64) } else { b as i64 })),
                _ => Err("a sign on something not a number".into()),
            };
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<PyValue, String> {
        let Some(tok) = self.peek().cloned() else {
            return Err("an expression is missing".into());
        };
        self.i += 1;
        match tok {
            Tok::Num(v) => Ok(v),
            Tok::Str(first) => {
                // Adjacent literals are one string.
                let mut v = first;
                while let Some(Tok::Str(next)) = self.peek().cloned() {
                    self.i += 1;
                    v = add(v, next)?;
                }
                Ok(v)
            }
            Tok::Name(n) => {
                if self.is_op("(") {
                    let factor = match n.as_str() {
                        "seconds" => 1,
                        "minutes" => 60,
                        "hours" => 3600,
                        "days" => 86400,
                        _ => return Err(format!("a call of {n}()")),
                    };
                    self.i += 1;
                    let arg = self.expr()?;
                    if !self.is_op(")") {
                        return Err(format!("{n}() with other than one number"));
                    }
                    self.i += 1;
                    return match arg {
                        PyValue::Int(x) => Ok(PyValue::Int(x * factor)),
                        PyValue::Float(x) => Ok(PyValue::Float(x * factor as f64)),
                        _ => Err(format!("{n}() of something not a number")),
                    };
                }
                self.env
                    .get(&n)
                    .cloned()
                    .ok_or_else(|| format!("the name {n}, whose value is not a literal here"))
            }
            Tok::Op(open @ ("(" | "[")) => {
                let close = if open == "(" { ")" } else { "]" };
                let mut items = Vec::new();
                let mut comma = false;
                while !self.is_op(close) {
                    items.push(self.expr()?);
                    if self.is_op(",") {
                        comma = true;
                        self.i += 1;
                    } else if !self.is_op(close) {
                        return Err("not a plain literal".into());
                    }
                }
                self.i += 1;
                if open == "[" {
                    Ok(PyValue::List(items))
                } else if items.len() == 1 && !comma {
                    Ok(items.pop().unwrap_or(PyValue::None))
                } else {
                    Ok(PyValue::Tuple(items))
                }
            }
            _ => Err("not a plain literal".into()),
        }
    }
}
