<?php

// STASK_BOOTSTRAP of the HTTP tests: loaded by the server (php -S), the
// worker process and the tests. The example workers (and storage_path()
// for their exports) come from the browser tests' bootstrap.

declare(strict_types=1);

require_once __DIR__ . '/../browser/bootstrap.php';
