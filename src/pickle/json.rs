//! The canonical JSON rendering that compares this reader with CPython's.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::value::{Node, NodeId, Pickle};
use crate::py::json_str;

impl Pickle {
    /// A canonical JSON rendering of the whole value, used to compare this
    /// reader with CPython's (`tools/pickle_canon.py` renders the same form):
    ///
    /// * `None`, `True`, `False` → `null`, `true`, `false`;
    /// * int or long → `{"i":"<decimal>"}`; float → `{"f":"<16 hex digits
    ///   of the IEEE-754 bits>"}`;
    /// * str → `{"b":"<hex>"}`; unicode → `{"u":"<text>"}`;
    /// * tuple, list → `{"t":[…]}`, `{"l":[…]}`; dict → `{"d":[[k,v],…]}`
    ///   in pickle order, a repeated key keeping its first place and its last
    ///   value (as a Python dict does);
    /// * class reference → `{"g":["module","name"]}`;
    /// * instance, or a call of a class → `{"inst":["module","name",[args…],
    ///   state]}` (`state` is `null` without `BUILD`);
    /// * any other call → `{"r":[callable,args]}`.
    ///
    /// JSON strings escape `"`, `\`, the control characters (`\b \f \n \r
    /// \t`, else `\u00XX`) and everything outside ASCII 0x20-0x7e as `\uXXXX`
    /// (UTF-16), like Python's `json.dumps(ensure_ascii=True)`; there is no
    /// whitespace. Shared objects are rendered at each place they occur.
    pub fn to_canonical_json(&self) -> String {
        let mut out = String::with_capacity(self.data.len().saturating_mul(2));
        self.canon(self.root, &mut out);
        out
    }

    fn canon(&self, id: NodeId, out: &mut String) {
        let Some(node) = self.nodes.get(id as usize) else {
            out.push_str("null");
            return;
        };
        match node {
            Node::None => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => {
                let _ = write!(out, "{{\"i\":\"{i}\"}}");
            }
            Node::BigInt(s) => {
                out.push_str("{\"i\":");
                json_str(s, out);
                out.push('}');
            }
            Node::Float(f) => {
                let _ = write!(out, "{{\"f\":\"{:016x}\"}}", f.to_bits());
            }
            Node::Bytes(s) => {
                out.push_str("{\"b\":\"");
                for b in self.str_bytes(s) {
                    let _ = write!(out, "{b:02x}");
                }
                out.push_str("\"}");
            }
            Node::Text(s) => {
                out.push_str("{\"u\":");
                json_str(&String::from_utf8_lossy(self.str_bytes(s)), out);
                out.push('}');
            }
            Node::Tuple(v) => self.canon_seq("t", v, out),
            Node::List(v) => self.canon_seq("l", v, out),
            Node::Dict(entries) => {
                let mut rendered: Vec<(String, NodeId)> = Vec::with_capacity(entries.len());
                let mut seen: HashMap<String, usize> = HashMap::new();
                for &(k, v) in entries.iter() {
                    let mut ks = String::new();
                    self.canon(k, &mut ks);
                    if entries.len() > 1 {
                        if let Some(&i) = seen.get(&ks) {
                            rendered[i].1 = v;
                            continue;
                        }
                        seen.insert(ks.clone(), rendered.len());
                    }
                    rendered.push((ks, v));
                }
                out.push_str("{\"d\":[");
                for (i, (ks, v)) in rendered.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    out.push_str(ks);
                    out.push(',');
                    self.canon(*v, out);
                    out.push(']');
                }
                out.push_str("]}");
            }
            Node::Global(c) => {
                out.push_str("{\"g\":[");
                json_str(&c.module, out);
                out.push(',');
                json_str(&c.name, out);
                out.push_str("]}");
            }
            Node::Instance(i) => {
                self.canon_inst(&i.module, &i.name, &i.args, i.state, out);
            }
            Node::Reduced { callable, args } => {
                let cls = self.nodes.get(*callable as usize);
                let tuple = self.nodes.get(*args as usize);
                if let (Some(Node::Global(c)), Some(Node::Tuple(a))) = (cls, tuple) {
                    self.canon_inst(&c.module, &c.name, a, None, out);
                } else {
                    out.push_str("{\"r\":[");
                    self.canon(*callable, out);
                    out.push(',');
                    self.canon(*args, out);
                    out.push_str("]}");
                }
            }
        }
    }

    fn canon_seq(&self, tag: &str, items: &[NodeId], out: &mut String) {
        out.push_str("{\"");
        out.push_str(tag);
        out.push_str("\":[");
        for (i, &c) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.canon(c, out);
        }
        out.push_str("]}");
    }

    fn canon_inst(
        &self,
        module: &str,
        name: &str,
        args: &[NodeId],
        state: Option<NodeId>,
        out: &mut String,
    ) {
        out.push_str("{\"inst\":[");
        json_str(module, out);
        out.push(',');
        json_str(name, out);
        out.push_str(",[");
        for (i, &a) in args.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.canon(a, out);
        }
        out.push_str("],");
        match state {
            Some(s) => self.canon(s, out),
            None => out.push_str("null"),
        }
        out.push_str("]}");
    }
}
