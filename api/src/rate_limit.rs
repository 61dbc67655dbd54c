//! Rate limits per client address: a keyed token bucket (GCRA: one instant per
//! address, no floating point).
//!
//! Two budgets per address: refused requests (every 4xx answer but 429 costs
//! one; an address without budget is answered 429 on everything but
//! `/healthz` until it refills) and `member.apply` submissions (the one kind
//! anyone may send; each costs one whether it is accepted or not). A crate
//! such as tower_governor counts every request; these budgets count only some
//! answers, and one of them needs the entry's kind, so the bucket is our own.
//!
//! Whose budget a request spends ([`client_key`]): its peer's address; but a
//! loopback peer is the operator's own tools (the demo's seeding, scripts,
//! tests) or a reverse proxy on the same host, so its requests spend the
//! budget of the address a proxy names last in `X-Forwarded-For` (the one it
//! appended itself), and none without one. Limiting loopback itself would
//! make every client behind a local proxy share one budget, which one abuser
//! could then empty for all. An IPv6 address counts by its /64, which one
//! household or office usually gets whole.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A budget: `burst` at once, refilled by one every `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// How many at once (at least 1).
    pub burst: u32,
    /// One more every this long (more than zero).
    pub every: Duration,
}

impl Budget {
    /// `burst` at once, `per_period` more every `period`.
    pub fn new(burst: u32, per_period: u32, period: Duration) -> Self {
        let every = period / per_period.max(1);
        Budget { burst: burst.max(1), every: every.max(Duration::from_micros(1)) }
    }
}

/// The rate limits of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Refused requests (4xx answers) per address.
    pub refused: Budget,
    /// `member.apply` submissions per address.
    pub apply: Budget,
    /// Most addresses tracked at once.
    pub addresses_max: usize,
}

impl Default for RateLimits {
    /// The defaults of `ledger::limits`.
    fn default() -> Self {
        use ledger::limits::*;
        RateLimits {
            refused: Budget::new(REFUSED_PER_ADDRESS_BURST, REFUSED_PER_ADDRESS_PER_MINUTE, Duration::from_secs(60)),
            apply: Budget::new(APPLY_PER_ADDRESS_BURST, APPLY_PER_ADDRESS_PER_HOUR, Duration::from_secs(3600)),
            addresses_max: RATE_LIMITED_ADDRESSES_MAX,
        }
    }
}

/// The key of a client address: IPv4 whole (an IPv4-mapped IPv6 address as
/// IPv4), IPv6 by its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// The address whose budget a request spends, or `None` when it spends none:
/// the peer's, unless the peer is a loopback address; then the last address
/// in `forwarded_for` (the `X-Forwarded-For` header, which a reverse proxy on
/// the same host appends its client's address to), else none.
pub fn client_key(peer: IpAddr, forwarded_for: Option<&str>) -> Option<IpAddr> {
    let unmapped = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
        IpAddr::V4(_) => peer,
    };
    if !unmapped.is_loopback() {
        return Some(address_key(peer));
    }
    let last = forwarded_for?.rsplit(',').next()?.trim();
    let ip = last.parse::<IpAddr>().ok().or_else(|| last.parse::<std::net::SocketAddr>().ok().map(|sa| sa.ip()))?;
    Some(address_key(ip))
}

/// One budget for every address. For each address it keeps the instant at
/// which its budget is whole again (`full_at`); an address whose budget is
/// whole is not kept.
pub struct Limiter {
    budget: Budget,
    addresses_max: usize,
    table: Mutex<Table>,
}

struct Table {
    full_at: HashMap<IpAddr, Instant>,
    /// Shed whole budgets when the table grows past this.
    shed_at: usize,
}

impl Limiter {
    /// A limiter with `budget` for each of at most `addresses_max` addresses.
    pub fn new(budget: Budget, addresses_max: usize) -> Self {
        Limiter {
            budget,
            addresses_max,
            table: Mutex::new(Table { full_at: HashMap::new(), shed_at: 1024.min(addresses_max) }),
        }
    }

    /// The span the budget covers when empty: `burst × every`.
    fn span(&self) -> Duration {
        self.budget.every.saturating_mul(self.budget.burst)
    }

    /// How long until `key` has one to spend again; `None` when it has one now.
    pub fn wait(&self, key: IpAddr, now: Instant) -> Option<Duration> {
        let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let full_at = *table.full_at.get(&key)?;
        // Empty until `full_at - span`, then one more every `every`.
        let one_back = full_at.checked_sub(self.span())?.checked_add(self.budget.every)?;
        (one_back > now).then(|| one_back - now)
    }

    /// Spend one for `key` if it has one: `Ok` when spent, else how long until
    /// it has one again.
    pub fn take(&self, key: IpAddr, now: Instant) -> Result<(), Duration> {
        if let Some(wait) = self.wait(key, now) {
            return Err(wait);
        }
        self.charge(key, now);
        Ok(())
    }

    /// Spend one for `key`, even past its budget (the budget then stays empty
    /// for longer).
    pub fn charge(&self, key: IpAddr, now: Instant) {
        let span = self.span();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if !table.full_at.contains_key(&key) && table.full_at.len() >= table.shed_at {
            table.full_at.retain(|_, full_at| *full_at > now);
            let len = table.full_at.len();
            table.shed_at = len.saturating_mul(2).clamp(1024.min(self.addresses_max), self.addresses_max);
            if len >= self.addresses_max {
                tracing::warn!("rate limiter: {len} addresses tracked, the most it keeps; {key} goes untracked");
                return;
            }
        }
        let full_at = table.full_at.entry(key).or_insert(now);
        // An empty budget stays empty, no debt: a client that keeps going
        // past it waits one step, not for ever.
        let base = (*full_at).max(now);
        let cap = now + span;
        *full_at = (base + self.budget.every).min(cap);
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.table.lock().unwrap_or_else(|p| p.into_inner()).full_at.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn burst_then_one_per_step() {
        let l = Limiter::new(Budget { burst: 3, every: Duration::from_secs(10) }, 100);
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(l.take(a, t0), Ok(()));
        }
        assert_eq!(l.take(a, t0), Err(Duration::from_secs(10)));
        assert_eq!(l.wait(a, t0 + Duration::from_secs(4)), Some(Duration::from_secs(6)));
        assert_eq!(l.take(a, t0 + Duration::from_secs(10)), Ok(()));
        assert!(l.take(a, t0 + Duration::from_secs(10)).is_err());
        // Another address has its own budget.
        assert_eq!(l.take(ip("192.0.2.2"), t0), Ok(()));
        // After the whole span the budget is whole again.
        let later = t0 + Duration::from_secs(40);
        for _ in 0..3 {
            assert_eq!(l.take(a, later), Ok(()));
        }
        assert!(l.take(a, later).is_err());
    }

    #[test]
    fn charging_past_the_budget_costs_one_step() {
        let l = Limiter::new(Budget { burst: 2, every: Duration::from_secs(5) }, 100);
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..100 {
            l.charge(a, t0);
        }
        assert_eq!(l.wait(a, t0), Some(Duration::from_secs(5)));
        assert_eq!(l.wait(a, t0 + Duration::from_secs(5)), None);
    }

    #[test]
    fn ipv6_counts_by_its_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), address_key(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(address_key(ip("2001:db8:1:2::1")), address_key(ip("2001:db8:1:3::1")));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn loopback_peers_spend_the_budget_of_the_address_their_proxy_names() {
        assert_eq!(client_key(ip("192.0.2.1"), None), Some(ip("192.0.2.1")));
        // A remote peer cannot choose whose budget it spends.
        assert_eq!(client_key(ip("192.0.2.1"), Some("198.51.100.7")), Some(ip("192.0.2.1")));
        assert_eq!(client_key(ip("127.0.0.1"), None), None);
        assert_eq!(client_key(ip("::1"), None), None);
        assert_eq!(client_key(ip("::ffff:127.0.0.1"), None), None);
        assert_eq!(client_key(ip("127.0.0.1"), Some("203.0.113.9, 198.51.100.7")), Some(ip("198.51.100.7")));
        assert_eq!(client_key(ip("127.0.0.1"), Some("198.51.100.7:4711")), Some(ip("198.51.100.7")));
        assert_eq!(client_key(ip("::1"), Some("[2001:db8::1]:443")), Some(ip("2001:db8::")));
        assert_eq!(client_key(ip("127.0.0.1"), Some("unknown")), None);
    }

    #[test]
    fn the_table_sheds_whole_budgets_and_stays_bounded() {
        let max = 2000;
        let l = Limiter::new(Budget { burst: 1, every: Duration::from_secs(1) }, max);
        let t0 = Instant::now();
        for i in 0..5000u32 {
            l.charge(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(l.tracked() <= max, "{}", l.tracked());
        // Once their budgets are whole the old addresses are shed for new ones.
        let later = t0 + Duration::from_secs(2);
        for i in 10_000..13_000u32 {
            l.charge(IpAddr::from(i.to_be_bytes()), later);
        }
        assert!(l.tracked() <= max);
        assert!(l.wait(IpAddr::from(10_000u32.to_be_bytes()), later).is_some());
    }
}
