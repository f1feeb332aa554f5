//! The SMTP stages on a gate: route or check, then let the pure
//! [`crate::answer`] say what the MTA answers. What every edge (Exim's
//! dlfunc and `local_scan`, the milter) calls.

use crate::address::{split_address, Kind, Route};
use crate::answer::{self, Answer, RcptAnswer, RcptContext};
use crate::decide::Verdict;
use crate::gate::Gate;

impl Gate {
    /// What to answer for RCPT `local_part@domain`.
    pub fn rcpt_answer(&self, local_part: &str, domain: &str, cx: RcptContext) -> RcptAnswer {
        self.rcpt_answer_with(local_part, domain, cx, |a| a.to_owned_answer())
    }

    /// [`Gate::rcpt_answer`], handed to `f` with the route's names
    /// borrowed: a list address in the plain form allocates nothing.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn rcpt_answer_with<R>(
        &self,
        local_part: &str,
        domain: &str,
        cx: RcptContext,
        f: impl FnOnce(RcptAnswer<&str>) -> R,
    ) -> R {
        let policy = &self.site.answers;
        let mut f = Some(f);
        let routed = self.store.route_with(local_part, domain, |route| {
            let a = answer::rcpt_answer(policy, local_part, domain, Ok(Some(route)), cx);
            (f.take().expect("called once"))(a)
        });
        let not_routed = match routed {
            Ok(Some(r)) => return r,
            Ok(None) => Ok(None),
            Err(e) => Err(e.to_string()),
        };
        let a = answer::rcpt_answer(policy, local_part, domain, not_routed, cx);
        (f.take().expect("not called"))(a)
    }

    /// The DATA stage's decision for one list recipient: the answer and,
    /// when the list was consulted, its verdict.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn data_answer(
        &self,
        list: &str,
        kind: Kind,
        envelope_sender: Option<&str>,
        raw: &[u8],
        recipients: usize,
    ) -> (Answer, Option<Verdict>) {
        let policy = &self.site.answers;
        if let Some(refused) = answer::data_refusal(policy, recipients) {
            return (refused, None);
        }
        let checked = self
            .check_with_trace(list, kind, envelope_sender, raw, false)
            .map_err(|e| e.to_string());
        answer::data_answer(policy, list, recipients, checked)
    }

    /// The list a whole message is decided for, after the fact (Exim's
    /// `local_scan`): the first recipient that is a Mailman address, if
    /// any. A recipient that cannot be routed is an error answer (accept).
    pub fn list_recipient(&self, recipients: &[String]) -> Result<Option<Route>, Answer> {
        for r in recipients {
            let (local_part, domain) = split_address(r);
            match self.route(local_part, domain) {
                Ok(Some(route)) => return Ok(Some(route)),
                Ok(None) => {}
                Err(e) => return Err(Answer::Error(format!("cannot route {r}: {e}"))),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::SEPARATE_TEXT;

    #[test]
    fn the_first_list_recipient_is_chosen() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists");
        let g = Gate::new(crate::site::Site::for_lists(fixtures));
        let rcpts = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let chosen = g
            .list_recipient(&rcpts(&[
                "someone@other.example",
                "Test-Request@example.com",
                "test@example.com",
            ]))
            .unwrap()
            .unwrap();
        assert_eq!((chosen.list.as_str(), chosen.kind), ("test", Kind::Request));
        assert_eq!(g.list_recipient(&rcpts(&["a@b", "nolist"])).unwrap(), None);
        assert_eq!(g.list_recipient(&[]).unwrap(), None);
        let bad = g.list_recipient(&rcpts(&["x@y", "broken@example.com"]));
        assert!(
            matches!(&bad, Err(Answer::Error(t)) if t.starts_with("cannot route")),
            "{bad:?}"
        );
    }

    #[test]
    fn the_site_answer_policy_reaches_the_answers() {
        let dir = std::env::temp_dir().join(format!("mg-gate-rcpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let gate_on = |extra: &str| {
            let conf = format!("lists_dir = {}\n{extra}", dir.display());
            Gate::new(crate::site::Site::parse(&conf, "t").unwrap())
        };
        let md = RcptContext {
            mailman_domain: true,
            ..Default::default()
        };
        let g = gate_on("");
        assert_eq!(
            g.rcpt_answer("nosuch", "lists.example", md).token(),
            "reject No such mailing list"
        );
        let (a, v) = g.data_answer("nosuch", Kind::Post, Some("a@b"), b"\n", 2);
        assert_eq!((a, v), (Answer::Defer(SEPARATE_TEXT.into()), None));
        let (a, v) = g.data_answer("nosuch", Kind::Post, Some("a@b"), b"\n", 1);
        assert!(
            matches!(&a, Answer::Error(t) if t.starts_with("list nosuch: ")),
            "{a:?}"
        );
        assert_eq!(v, None);
        let g2 = gate_on("separate_submissions = no\non_unknown_list = accept\n");
        assert_eq!(
            g2.rcpt_answer("nosuch", "lists.example", md).token(),
            "notlist"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
