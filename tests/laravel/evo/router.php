<?php

// php -S router: files under the site root as they are (published assets),
// /manager/... through manager/index.php, the rest through index.php; each
// with the SCRIPT_NAME a web server would give it, so Request computes the
// same base URL (/manager) and path as on a site.
$path = (string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
if ($path !== '/' && is_file(__DIR__ . $path) && !str_ends_with($path, '.php')) {
    return false;
}
$script = ($path === '/manager' || str_starts_with($path, '/manager/')) ? '/manager/index.php' : '/index.php';
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $script;
$_SERVER['SCRIPT_FILENAME'] = __DIR__ . $script;
require __DIR__ . $script;
