//! The live-process registry (engine::processes) on every backend: a
//! worker loop is listed while it runs and removed when it stops; one that
//! dies without stopping (kill -9) stays listed but stops counting as alive
//! once its heartbeat is two minutes old, and the leader forgets it later.

#[macro_use]
mod common;

use common::*;
use stask::engine::metrics::no_process_alert;
use stask::engine::processes::{is_alive, ALIVE_FOR, FORGET_AFTER};
use stask::engine::service::Engine;
use stask::engine::time;

suite!(a_loop_is_listed_while_it_runs_and_a_dead_one_expires,);

fn a_loop_is_listed_while_it_runs_and_a_dead_one_expires(h: &H) {
    let first = h.wait(h.engine().process_start()).unwrap();
    let other: Engine = h.wait(Engine::open(h.settings.clone())).unwrap();
    let second = h.wait(other.process_start()).unwrap();
    let rows = h.wait(h.engine().processes()).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let now = time::now();
    for p in &rows {
        assert_eq!(p.pid, std::process::id() as i64);
        assert_eq!(p.version, env!("CARGO_PKG_VERSION"));
        assert!(is_alive(p, now), "{p:?}");
    }
    let owners: Vec<&str> = rows.iter().map(|p| p.owner.as_str()).collect();
    assert!(owners.contains(&h.engine().owner()) && owners.contains(&other.owner()), "{owners:?}");

    // The second dies without a word: its row stays, its heartbeat ages.
    drop(second);
    assert_eq!(h.wait(h.engine().processes()).unwrap().len(), 2);
    let later = now + chrono::Duration::from_std(ALIVE_FOR).unwrap() + chrono::Duration::seconds(1);
    let dead: Vec<_> = h.wait(h.engine().processes()).unwrap().into_iter().filter(|p| !is_alive(p, later)).collect();
    assert_eq!(dead.len(), 2, "without heartbeats both count as gone two minutes on");
    assert!(no_process_alert(3, 0).is_some() && no_process_alert(0, 0).is_none() && no_process_alert(3, 1).is_none());

    // A clean stop removes the row at once; the leader forgets dead ones.
    h.wait(first.stop());
    let left = h.wait(h.engine().processes()).unwrap();
    assert_eq!(left.iter().map(|p| p.owner.as_str()).collect::<Vec<_>>(), vec![other.owner()]);
    let forget = time::now() + chrono::Duration::from_std(FORGET_AFTER).unwrap();
    assert_eq!(h.wait(h.engine().store().process_expire(forget)).unwrap(), 1);
    assert!(h.wait(h.engine().processes()).unwrap().is_empty());
    let _g = h.rt.enter();
    drop(other);
}
