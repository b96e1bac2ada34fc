//! Recent search pages, so that the same search asked again (a front page, a popular theme)
//! costs a lookup. Each entry is keyed by the catalogue change counter its results reflect and
//! by the minute (for "open now" and freshness notices): any write to the catalogue, on any
//! instance, changes the counter, so a cached page is never staler than an uncached one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept before the cache starts over; a page is a few tens of kilobytes.
const CAPACITY: usize = 512;

pub struct SearchCache<T = crate::api::SearchPage> {
    entries: Mutex<HashMap<String, Arc<T>>>,
}

impl<T> Default for SearchCache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> SearchCache<T> {
    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: String, page: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Starting over is simpler than LRU bookkeeping and, keyed by counter and minute,
        // entries age out within a minute anyway.
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_pages_and_starts_over_when_full() {
        let cache: SearchCache<u32> = SearchCache::default();
        assert!(cache.get("a").is_none());
        cache.put("a".into(), Arc::new(1));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        for i in 0..CAPACITY {
            cache.put(format!("k{i}"), Arc::new(2));
        }
        assert!(cache.get("a").is_none(), "the full cache started over");
    }
}
