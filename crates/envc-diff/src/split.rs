//! Whether work over many services is split over two threads: comparing and redacting a
//! large set does, a small one would pay more for the thread than it saves.

/// Whether work over many services is split over two threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// From a size on, where a thread saves more than it costs.
    BySize,
    /// Always (the tests, to hold the split to the one pass on small sets).
    #[cfg_attr(not(test), allow(dead_code))]
    Always,
    /// Never.
    #[cfg_attr(not(test), allow(dead_code))]
    Never,
}

impl Split {
    /// Whether `n` services are split, `from` being the size from which it pays.
    pub fn splits(self, n: usize, from: usize) -> bool {
        match self {
            Split::BySize => n >= from,
            Split::Always => n >= 2,
            Split::Never => false,
        }
    }
}

/// `a()` on a second thread and `b()` on this one, at once; a panic in either is re-raised
/// here.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let ra = scope.spawn(a);
        let rb = b();
        let ra = ra
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (ra, rb)
    })
}
