//! Zero heap allocations on every sign and verify path, counted by a global allocator.
//! (The allocator is the only `unsafe` in the repository; the library forbids it.)
// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use stackjwt::{Algorithm, Error, Key, Verifier, dev_token};

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads do not count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls on the current thread.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Custom<'a> {
    user_id: &'a str,
    exp: u64,
    teams: [&'a str; 2],
    name: heapless::String<16>,
}

#[test]
fn the_counter_counts() {
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 8]))) >= 1);
}

#[test]
fn sign_and_verify_never_allocate() {
    let n = allocations_in(|| {
        let mut buf = [0u8; 512];
        let mut scratch = [0u8; 512];
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let key = Key::new(alg, &[9; 64]).unwrap().with_kid("k1").unwrap();
            let v = Verifier::new(&key).leeway(5).require_exp(true);
            let t = key.user_token("jürgen \"q\"\n", Some(2_000), Some(1_000), &mut buf).unwrap();
            assert_eq!(v.verify(t, 1_500, &mut scratch).unwrap().user_id(), Some("jürgen \"q\"\n"));
            assert_eq!(v.verify(t, 2_500, &mut scratch), Err(Error::Expired));

            let t = key.server_token(&mut buf).unwrap();
            assert_eq!(v.require_exp(false).verify(t, 0, &mut scratch).map(|c| c.is_server()), Ok(true));

            let mut name = heapless::String::new();
            name.push_str("a\tb").unwrap();
            let claims = Custom { user_id: "john", exp: 2_000, teams: ["red", "blue"], name };
            let t = key.sign(&claims, &mut buf).unwrap();
            let back: Custom<'_> = v.verify_as(t, 1_500, &mut scratch).unwrap();
            assert_eq!(
                (back.user_id, back.exp, back.teams, back.name.as_str()),
                ("john", 2_000, ["red", "blue"], "a\tb")
            );

            assert_eq!(
                v.verify(b"not.a.token", 0, &mut scratch).map(|_| ()),
                Err(Error::InvalidBase64 { segment: stackjwt::Segment::Header })
            );
            assert_eq!(v.verify(b"", 0, &mut scratch).map(|_| ()), Err(Error::Malformed));
        }
        let t = dev_token("john", &mut buf).unwrap();
        let key = Key::new_weak(Algorithm::Hs256, b"secret").unwrap();
        let v = Verifier::new(&key).allow_dev_tokens(true);
        assert!(v.verify(t, 0, &mut scratch).unwrap().is_dev());
        let _ = Error::Expired.stream_code();
    });
    assert_eq!(n, 0, "allocations on sign/verify paths");
}
