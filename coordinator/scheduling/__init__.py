"""The scheduling core by concept; coordinator.scheduler.Scheduler is the last of them.

Each module's class extends the one before it, so a concept may use those listed above it:

    effects     what the engine does after the commit, and the timers, as typed values
    base        shared state, the timer heap, state moves by the table, the effect list
    slots       the counters that must agree: worker slots, pool use, task instances on workers
    readiness   trigger rules, a new try, failure and retry
    mapping     dynamic task mapping: a mapped task expanded into one instance per item
    runs        DAGs and their runs: timetables, run creation, start and finish
    dispatch    the ready queue to free worker slots; acknowledgements, refusals and losses
    reschedule  sensors in reschedule mode: up_for_reschedule between pokes, the same try again
    triggerers  triggerer sessions, and which live triggerer runs each waiting trigger
    deferral    deferred tasks: a trigger per deferral, resumed once on its first event
    reports     what workers say about their attempts: started, finished
    requests    what running tasks ask: push and pull XComs
    membership  workers joining, leaving, draining and going silent
    commands    people's commands: clear, mark, cancel a run, pools
    explain     why a task instance is not running
    backfills   a DAG's runs over a range of past dates, under their own max_active_runs
    assets      asset events in (outlets, programs, watchers), asset-triggered runs out
    watchers    asset watchers' triggers kept running in a triggerer; each event an asset event
"""
