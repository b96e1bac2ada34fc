//! SHA-256 of an upload, on a thread of its own once the upload is large: hashing is the
//! costliest per-byte step, and doing it beside the encryption uses a second core. Small
//! uploads are hashed inline (no thread for a one-page scan).

use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::task::{Context, Poll};

/// Past this many bytes, hashing moves to its own thread.
const THREAD_AFTER: u64 = 4 * 1024 * 1024;
/// Pieces waiting for the hashing thread (bounds the memory held).
const QUEUE: usize = 16;

pub(super) enum ContentHash {
    Inline {
        hasher: Sha256,
        seen: u64,
    },
    Threaded {
        pieces: SyncSender<Arc<Vec<u8>>>,
        digest: Receiver<[u8; 32]>,
    },
}

/// Lets other tasks run once, without depending on a particular async runtime.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl ContentHash {
    pub(super) fn new() -> Self {
        Self::Inline {
            hasher: Sha256::new(),
            seen: 0,
        }
    }

    pub(super) async fn update(&mut self, piece: &Arc<Vec<u8>>) {
        match self {
            Self::Inline { hasher, seen } => {
                hasher.update(piece.as_slice());
                *seen += piece.len() as u64;
                // Once only: a failed spawn leaves `seen` at 0 and the hashing inline for good.
                if *seen > THREAD_AFTER {
                    let hasher = std::mem::take(hasher);
                    *self = Self::spawn(hasher);
                }
            }
            Self::Threaded { pieces, .. } => {
                let mut next = Arc::clone(piece);
                loop {
                    match pieces.try_send(next) {
                        Ok(()) => return,
                        Err(TrySendError::Full(back)) => {
                            next = back;
                            YieldNow(false).await;
                        }
                        // The thread is gone (it cannot fail): `finish` reports it.
                        Err(TrySendError::Disconnected(_)) => return,
                    }
                }
            }
        }
    }

    fn spawn(hasher: Sha256) -> Self {
        let fallback = hasher.clone();
        let mut hasher = hasher;
        let (pieces, incoming) = sync_channel::<Arc<Vec<u8>>>(QUEUE);
        let (result, digest) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("peps-sha256".into())
            .spawn(move || {
                for piece in incoming {
                    hasher.update(piece.as_slice());
                }
                let _ = result.send(hasher.finalize().into());
            });
        match spawned {
            Ok(_) => Self::Threaded { pieces, digest },
            // No thread to be had: hash inline rather than fail the upload.
            Err(e) => {
                tracing::warn!(error = %e, "hashing inline: no thread available");
                Self::Inline {
                    hasher: fallback,
                    seen: 0,
                }
            }
        }
    }

    /// The digest, lower-case hex; `None` only if the hashing thread died.
    pub(super) async fn finish(self) -> Option<String> {
        let digest: [u8; 32] = match self {
            Self::Inline { hasher, .. } => hasher.finalize().into(),
            Self::Threaded { pieces, digest } => {
                drop(pieces);
                loop {
                    match digest.try_recv() {
                        Ok(d) => break d,
                        Err(TryRecvError::Empty) => YieldNow(false).await,
                        Err(TryRecvError::Disconnected) => return None,
                    }
                }
            }
        };
        Some(super::files::hex(&digest))
    }
}
