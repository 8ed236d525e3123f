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

/// [`in_halves_mut`] of items `f` takes (each half is given to `f`, which may consume it),
/// split where the items' `weight` (about the work each is) is half done rather than at the
/// middle item, so that two halves of unequal items take about as long (at the middle when
/// none weighs anything).
pub fn in_halves_owned_by<T: Send, R: Send>(
    split: Split,
    mut items: Vec<T>,
    from: usize,
    weight: impl Fn(&T) -> usize,
    f: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    if !split.splits(items.len(), from) {
        return vec![f(items)];
    }
    let total: usize = items.iter().map(&weight).sum();
    let mut done = 0;
    let at = items
        .iter()
        .position(|i| {
            done += weight(i);
            total > 0 && 2 * done >= total
        })
        .map_or(items.len() / 2, |i| i + 1)
        // Two halves, each of one item at least (as [`Split::Always`] asks of the tests).
        .clamp(1, items.len() - 1);
    let second = items.split_off(at);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The halves of weighted items hold about equal weight, in order, and every item once.
    #[test]
    fn weighted_halves_split_where_half_the_weight_is() {
        let items: Vec<usize> = vec![0, 0, 0, 0, 0, 0, 4, 4, 4, 4];
        let halves = in_halves_owned_by(Split::Always, items, 2, |w| *w, |h| h);
        assert_eq!(halves, vec![vec![0, 0, 0, 0, 0, 0, 4, 4], vec![4, 4]]);
        // Weightless items split at the middle; each half has one item at least.
        let halves = in_halves_owned_by(Split::Always, vec![0, 0, 0, 0], 2, |w| *w, |h| h);
        assert_eq!(halves, vec![vec![0, 0], vec![0, 0]]);
        let halves = in_halves_owned_by(Split::Always, vec![0, 0, 5], 2, |w| *w, |h| h);
        assert_eq!(halves, vec![vec![0, 0], vec![5]]);
        let halves = in_halves_owned_by(Split::Always, vec![9, 1], 2, |w| *w, |h| h);
        assert_eq!(halves, vec![vec![9], vec![1]]);
        let whole = in_halves_owned_by(Split::Never, vec![1, 2, 3], 2, |w| *w, |h| h);
        assert_eq!(whole, vec![vec![1, 2, 3]]);
    }
}
