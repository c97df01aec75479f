<?php

// PHPUnit bootstrap of the HTTP tests: the same classes as the server (the
// extension is loaded through PHP_INI_SCAN_DIR and configured from the same
// environment, so the tests reach the server's database), and the base case.

declare(strict_types=1);

if (getenv('STASK_HTTP_URL') === false || !extension_loaded('stask')) {
    fwrite(STDERR, "tests/http: run through tests/http/run.sh (it starts the server)\n");
    exit(2);
}

require __DIR__ . '/server.php';
require __DIR__ . '/../support/RawRows.php';
require __DIR__ . '/HttpTestCase.php';
