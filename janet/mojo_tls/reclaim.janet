# Native handles of objects dropped without :close are freed anyway.
#
# Janet has no finalizers for tables, so every tracked handle sits in a
# strong table (handle -> free function) and, weakly, in a table from the
# handle to the object that owns it. Once the collector has taken the
# owner, its weak entry is gone and the next sweep frees the handle. Sweeps
# run every `sweep-every` new handles (and on demand): memory stays bounded
# by the rate connections are made, not by how many were leaked. Not a
# public API.

(def- free-fns @{})
(def- owners (table/weak-values 64))
(def- sweep-every 64)
(var- since-sweep 0)

(defn sweep
  "Free the handles whose owners have been collected; returns how many."
  []
  (set since-sweep 0)
  (def gone (seq [[h _] :pairs free-fns :when (nil? (get owners h))] h))
  (each h gone
    (def free (get free-fns h))
    (put free-fns h nil)
    (protect (free h)))
  (length gone))

(defn track
  "Free `handle` with (free handle) once `owner` is unreachable, unless untracked first."
  [owner handle free]
  (put free-fns handle free)
  (put owners handle owner)
  (when (>= (++ since-sweep) sweep-every) (sweep))
  handle)

(defn untrack
  "Forget `handle` (its owner freed it)."
  [handle]
  (put free-fns handle nil)
  (put owners handle nil))

(defn live-count
  "The number of tracked handles (for tests)."
  []
  (length free-fns))
