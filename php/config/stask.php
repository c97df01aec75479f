<?php

// Merged into config('stask'); a host overrides it with its own config/stask.php
// (Evolution CMS: core/custom/config/stask.php).
return [
    // Worker loops the scheduled `stask:worker` runs on this host at most
    // (overlapping cron ticks share them); `--concurrency` overrides it.
    'concurrency' => (int) (getenv('STASK_CONCURRENCY') ?: 1),
];
