//! The registry of live handles. A handle given to C is an id (never a
//! pointer), so a NULL, freed, forged or wrong-type handle is found out by a
//! lookup instead of a crash. Ids are never reused, so a stale handle can't
//! alias a newer object. The map is sharded so that distinct connections do
//! not contend on one lock; a lookup only clones an `Arc`.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use std::sync::LazyLock;

const SHARDS: usize = 32;
/// Ids step by 16 from a non-trivial base: small integers and typical
/// aligned pointers are never valid handles by accident.
const STEP: usize = 16;

type Shard = RwLock<HashMap<usize, Arc<dyn Any + Send + Sync>>>;

static TABLE: LazyLock<Vec<Shard>> =
    LazyLock::new(|| (0..SHARDS).map(|_| RwLock::default()).collect());
static NEXT_ID: AtomicUsize = AtomicUsize::new(0x6d6f_0000);

fn shard(id: usize) -> &'static Shard {
    &TABLE[(id / STEP) % SHARDS]
}

/// Register an object; returns its handle value (never 0).
pub fn insert<T: Any + Send + Sync>(obj: Arc<T>) -> usize {
    insert_reserved(reserve(), obj)
}

/// A fresh handle value for an object registered later with
/// `insert_reserved` (a connection knows its handle during its first
/// handshake, before the constructor returns it).
pub fn reserve() -> usize {
    NEXT_ID.fetch_add(STEP, Ordering::Relaxed)
}

/// Register an object under a value from `reserve`.
pub fn insert_reserved<T: Any + Send + Sync>(id: usize, obj: Arc<T>) -> usize {
    shard(id)
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, obj);
    id
}

/// Look up a live handle of type `T`.
pub fn get<T: Any + Send + Sync>(id: usize) -> Option<Arc<T>> {
    if id == 0 || id % STEP != 0 {
        return None;
    }
    let any = shard(id)
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)?
        .clone();
    any.downcast::<T>().ok()
}

/// Remove a live handle of type `T`, returning the object (it is dropped when
/// the last in-flight call using it returns).
pub fn remove<T: Any + Send + Sync>(id: usize) -> Option<Arc<T>> {
    if id == 0 || id % STEP != 0 {
        return None;
    }
    let mut map = shard(id).write().unwrap_or_else(|p| p.into_inner());
    if !map.get(&id)?.is::<T>() {
        return None;
    }
    map.remove(&id)?.downcast::<T>().ok()
}
