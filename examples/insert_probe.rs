use stask::engine::task::NewTask;
use std::time::Instant;
fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let path = std::path::PathBuf::from("/tmp/s1/probe.sqlite");
    let _ = std::fs::remove_file(&path);
    let store = rt.block_on(stask::engine::store::sqlite::SqliteStore::connect(&path, "")).unwrap();
    use stask::engine::store::Store;
    let _ = 0;
    let h = rt.handle().clone();
    let n = 20000;
    let t = Instant::now();
    for _ in 0..n {
        h.block_on(async {});
    }
    println!("noop block_on: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = Instant::now();
    for i in 0..n {
        let mut nt = NewTask::new("noop", "run");
        nt.meta = Some(format!("{{\"i\":{i}}}"));
        h.block_on(store.task_insert(&nt, stask::engine::time::now())).unwrap();
    }
    println!("insert: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = Instant::now();
    for i in 0..n {
        h.block_on(store.task_get(1 + (i % 100))).unwrap();
    }
    println!("get: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
