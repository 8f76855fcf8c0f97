//! A seeded random generator over [`fastrand::Rng`]: the same data on every run and machine,
//! with the few shapes tests need (uniform, Gaussian, vectors, picks).

/// A seeded generator; wraps [`fastrand::Rng::with_seed`].
#[derive(Debug, Clone)]
pub struct Rng(fastrand::Rng);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(fastrand::Rng::with_seed(seed))
    }

    /// The underlying `fastrand` generator, for anything not covered here.
    pub fn inner(&mut self) -> &mut fastrand::Rng {
        &mut self.0
    }

    /// A uniform `u64`.
    pub fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// Uniform in `[0, n)`; `0` when `n` is `0`.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.0.usize(..n) }
    }

    /// One of `items`, uniformly; `None` when `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        self.0.choice(items)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0.f64()
    }

    /// Standard normal (Box–Muller).
    pub fn gaussian(&mut self) -> f32 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }

    /// A vector of `dims` standard-normal components.
    pub fn vector(&mut self, dims: usize) -> Vec<f32> {
        (0..dims).map(|_| self.gaussian()).collect()
    }

    /// A random direction of length 1 (`dims` > 0).
    pub fn unit_vector(&mut self, dims: usize) -> Vec<f32> {
        let v = self.vector(dims);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        v.into_iter().map(|x| x / norm).collect()
    }

    /// A lowercase ASCII word of `len` letters.
    pub fn word(&mut self, len: usize) -> String {
        (0..len).map(|_| self.0.lowercase()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_data() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.vector(16), b.vector(16));
        assert_eq!(a.word(8), b.word(8));
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn unit_vectors_have_length_one() {
        let v = Rng::new(3).unit_vector(32);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }

    #[test]
    fn below_and_pick_stay_in_range() {
        let mut rng = Rng::new(5);
        assert!((0..100).all(|_| rng.below(3) < 3));
        assert_eq!(rng.below(0), 0);
        assert!(rng.pick::<u8>(&[]).is_none());
        assert!(matches!(rng.pick(&["a", "b"]), Some(&"a" | &"b")));
    }
}
