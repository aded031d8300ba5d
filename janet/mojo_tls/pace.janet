# Pacing of handshake steps, so many handshakes at once do not stall the
# event loop. A handshake step (key exchange, signature, verification) is
# CPU work of about a millisecond inside one FFI call; when 50 connections
# become ready in one poll, the loop used to run all their steps before any
# timer or other fiber got a turn. Every step now first asks `step`: once
# the steps run back to back have taken `budget` seconds, the caller sleeps
# 0 s, which lets the loop run timers and other fibers first. Not a public
# API.

(def- budget 0.004)

# When the current run of back-to-back steps began (monotonic seconds).
(var- burst-begin -1)

(defn- now [] (os/clock :monotonic))

(defn step
  "Wait, if needed, until a handshake step may run without stalling the loop."
  []
  (forever
    (def t (now))
    (when (<= (- t burst-begin) budget) (break))
    (ev/sleep 0)
    # Waking from the sleep means the loop went round: the first fiber to
    # wake since then starts a new run; the others join it while it lasts.
    (when (< burst-begin t) (set burst-begin (now)))))
