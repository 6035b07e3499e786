-- Tasks arrive in bursts: a new ledger goes from empty to tens of thousands of rows in seconds. With PostgreSQL's
-- defaults (analyze after 10% of a table changed) the planner kept the statistics of the empty tables and chose
-- plans that scanned every waiting task to release one (18 ms instead of 0.5 ms). Statistics and dead index entries
-- are refreshed here after a fixed number of changed rows instead; how soon also depends on the server's
-- autovacuum_naptime (the README recommends 5 s).
ALTER TABLE tasks SET (
  autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_threshold = 1000
);
ALTER TABLE task_dependencies SET (
  autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_threshold = 1000
);
