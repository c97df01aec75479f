<?php

/**
 * PHPUnit bootstrap: the sTask PHP package, Carbon (as Evolution CMS ships
 * it), the example workers, and the few host helpers the seed's snippets
 * call (now(), storage_path(), evo()). Nothing else of a CMS is faked.
 */

declare(strict_types=1);

require __DIR__ . '/../../php/autoload.php';
require '/usr/share/php/Carbon/autoload.php';
require __DIR__ . '/../../examples/autoload.php';
require __DIR__ . '/../support/RawRows.php';
require __DIR__ . '/Host.php';
require __DIR__ . '/TestCase.php';

use Stask\Tests\Host;

if (!function_exists('now')) {
    /** Laravel's now(): the application clock, as Carbon. */
    function now(): \Carbon\Carbon
    {
        return \Carbon\Carbon::now();
    }
}

if (!function_exists('storage_path')) {
    /** Laravel's storage_path(): the current test's storage folder. */
    function storage_path(string $path = ''): string
    {
        return Host::$storage . ($path === '' ? '' : '/' . ltrim($path, '/'));
    }
}

if (!function_exists('evo')) {
    /** Evolution CMS's evo(): only the two calls the seed makes. */
    function evo(): object
    {
        return Host::evo();
    }
}
