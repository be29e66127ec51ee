//! A lazily initialized value.
//!
//! kinesd's copy: sled 0.34.7 spun on an atomic flag while another thread ran the
//! initializer. Its I/O thread pool is such a value, and its initializer spawns the pool's
//! threads, each of which then spun until the initializer finished: on a machine with few
//! cores they took the CPU from it and from everything else starting. Waiters now block.

use std::sync::OnceLock;

/// A lazily initialized value
pub struct Lazy<T, F> {
    value: OnceLock<T>,
    init: F,
}

impl<T, F> Lazy<T, F> {
    /// Create a new Lazy
    pub const fn new(init: F) -> Self
    where
        F: Sized,
    {
        Self { value: OnceLock::new(), init }
    }
}

impl<T, F> std::ops::Deref for Lazy<T, F>
where
    F: Fn() -> T,
{
    type Target = T;

    fn deref(&self) -> &T {
        self.value.get_or_init(|| (self.init)())
    }
}
