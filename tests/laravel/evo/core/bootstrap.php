<?php

/*
 * An Evolution CMS 3.1-like core for the package's tests (core/bootstrap.php
 * of a site). Written for this harness from what the 3.1.6 core does, so the
 * package meets the same conditions there as on a real site:
 *
 * - no Illuminate\Foundation at all (only the illuminate/* components), so
 *   no Foundation helpers either: functions.php defines just the helpers the
 *   core defines (no report(), logger(), info(), event(), abort());
 * - the container (EvolutionCMS\Core) binds its exception handler only as the
 *   service `ExceptionHandler`, an object that is not Laravel's contract;
 * - no `app.timezone` in the configuration;
 * - routes of the manager under /manager/ in the `mgr` group, requests built
 *   with Request::createFromGlobals(), permissions cached in the session at
 *   login;
 * - every PHP error, deprecations included, written to
 *   core/storage/logs/php-errors.log, which the tests expect to stay empty.
 */

declare(strict_types=1);

define('EVO_CORE_PATH', __DIR__ . '/');
define('MODX_BASE_PATH', dirname(__DIR__) . '/');
define('MODX_BASE_URL', '/');
define('MGR_DIR', 'manager');
define('MODX_MANAGER_PATH', MODX_BASE_PATH . MGR_DIR . '/');
if (!defined('MODX_SITE_URL')) {
    define('MODX_SITE_URL', (getenv('EVO_SITE_URL') ?: 'http://localhost') . '/');
}
define('MODX_MANAGER_URL', MODX_SITE_URL . MGR_DIR . '/');
if (!defined('IN_MANAGER_MODE')) {
    define('IN_MANAGER_MODE', false);
}

// The folders a core ships under core/storage.
foreach (['logs', 'sessions', 'cache', 'views', 'bootstrap'] as $folder) {
    if (!is_dir(EVO_CORE_PATH . 'storage/' . $folder)) {
        @mkdir(EVO_CORE_PATH . 'storage/' . $folder, 0755, true);
    }
}

error_reporting(E_ALL);
set_error_handler(static function (int $level, string $message, string $file, int $line): bool {
    $dir = EVO_CORE_PATH . 'storage/logs';
    if (!is_dir($dir)) {
        @mkdir($dir, 0755, true);
    }
    file_put_contents($dir . '/php-errors.log', sprintf("[%d] %s in %s:%d\n", $level, $message, $file, $line), FILE_APPEND);

    // Deprecations and notices are logged and the request goes on, as on a
    // site; warnings go on to PHP's own handling too.
    return ($level & (E_DEPRECATED | E_USER_DEPRECATED | E_NOTICE | E_USER_NOTICE)) !== 0;
});

require __DIR__ . '/autoload.php';
require __DIR__ . '/functions.php';

// The manager keeps its login in PHP's native session, started before the
// application runs (core/includes/protect.inc.php and friends).
if (PHP_SAPI !== 'cli' && session_status() === PHP_SESSION_NONE) {
    $sessions = EVO_CORE_PATH . 'storage/native-sessions';
    if (!is_dir($sessions)) {
        @mkdir($sessions, 0700, true);
    }
    session_save_path($sessions);
    session_name('evo_sid');
    session_cache_limiter('');
    session_start();
}
