<?php

// The tests drive `php artisan` processes; they only need Symfony Process
// and PHPUnit here (Debian's Illuminate autoload brings Symfony).
require_once 'Illuminate/autoload.php';
require_once __DIR__ . '/HarnessTestCase.php';
require_once __DIR__ . '/HttpHarnessTestCase.php';
