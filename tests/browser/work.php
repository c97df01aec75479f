<?php

// The worker process of the browser tests: works tasks until SIGTERM.

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;

require __DIR__ . '/bootstrap.php';

sTask::work(['max_seconds' => (int) (getenv('STASK_WORK_SECONDS') ?: 600)]);
