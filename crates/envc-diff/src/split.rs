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

/// `f` of `items`, in two halves at once when `splits` says so for their number (`from` the
/// size from which it pays), else whole: the results in order, one or two. `f` may change the
/// items of its half.
pub fn in_halves_mut<T: Send, R: Send>(
    split: Split,
    items: &mut [T],
    from: usize,
    f: impl Fn(&mut [T]) -> R + Sync,
) -> Vec<R> {
    if !split.splits(items.len(), from) {
        return vec![f(items)];
    }
    let mid = items.len() / 2;
    let (first, second) = items.split_at_mut(mid);
    let f = &f;
    let (later, done) = join(move || f(second), move || f(first));
    vec![done, later]
}

/// [`in_halves_mut`] of items `f` takes: each half is given to `f`, which may consume it.
pub fn in_halves_owned<T: Send, R: Send>(
    split: Split,
    mut items: Vec<T>,
    from: usize,
    f: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    if !split.splits(items.len(), from) {
        return vec![f(items)];
    }
    let second = items.split_off(items.len() / 2);
    let f = &f;
    let (later, done) = join(move || f(second), move || f(items));
    vec![done, later]
}

/// `f` of `a` and of `b`, at once on two threads when `parallel`, else one after the other.
pub fn both<T: Send, R: Send>(parallel: bool, a: T, b: T, f: impl Fn(T) -> R + Sync) -> (R, R) {
    if parallel {
        let f = &f;
        join(move || f(a), move || f(b))
    } else {
        (f(a), f(b))
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
