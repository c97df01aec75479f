<?php
/**
 * The sTask admin module: one page, host-agnostic (plain PHP, no Blade).
 *
 * Expects $page (see Seiger\sTask\Http\ModulePage::data()):
 *   api      string  URL of the API root, e.g. /stask or /manager/stask
 *   auth     string  'csrf' (session + X-CSRF-TOKEN) or 'bearer' (the page asks for the token)
 *   csrf     string  CSRF token ('' in bearer mode)
 *   locale   string  en, uk or ru
 *   assets   string  URL of the folder holding stask-admin.js/.css
 *   version  string  cache-busting suffix of the asset URLs
 *   strings  array   translated strings (lang/<locale>/admin.php)
 *   theme    string  light, dark (what the host manager shows) or auto (the browser's preference)
 *   icon_css string  URL of the host's icon font stylesheet for the workers' icons ('' for none)
 *   doctor   string  URL of the web server's PHP report (GET {api}/doctor; '' where there is none)
 *
 * Everything dynamic is drawn by stask-admin.js from the API.
 */

declare(strict_types=1);

/** @var array $page */
$e = static fn ($v): string => htmlspecialchars((string) $v, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
$assets = rtrim((string) $page['assets'], '/');
$version = rawurlencode((string) ($page['version'] ?? ''));
$config = [
    'api' => (string) $page['api'],
    'auth' => $page['auth'] === 'bearer' ? 'bearer' : 'csrf',
    'csrf' => $page['auth'] === 'bearer' ? '' : (string) ($page['csrf'] ?? ''),
    'locale' => (string) $page['locale'],
    'strings' => (array) $page['strings'],
    'theme' => in_array($page['theme'] ?? 'auto', ['light', 'dark'], true) ? $page['theme'] : 'auto',
];
$iconCss = (string) ($page['icon_css'] ?? '');
// JSON inside a script element: hex-escape what could close the element or start markup.
$json = json_encode($config, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
?><!DOCTYPE html>
<html lang="<?= $e($page['locale']) ?>"<?= $config['theme'] !== 'auto' ? ' data-theme="' . $e($config['theme']) . '"' : '' ?> data-host-theme="<?= $e($config['theme']) ?>">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex, nofollow">
<?php if ($config['csrf'] !== ''): ?>
    <meta name="csrf-token" content="<?= $e($config['csrf']) ?>">
<?php endif; ?>
    <title><?= $e($page['strings']['title'] ?? 'Task Manager') ?></title>
<?php if ($iconCss !== ''): ?>
    <link rel="stylesheet" href="<?= $e($iconCss) ?>">
<?php endif; ?>
    <link rel="stylesheet" href="<?= $e($assets . '/stask-admin.css?v=' . $version) ?>">
    <script type="application/json" id="stask-config"><?= $json ?></script>
    <script src="<?= $e($assets . '/stask-admin.js?v=' . $version) ?>" defer></script>
</head>
<body class="stask-body">
<div id="stask-app" class="stask-app" data-auth="<?= $e($config['auth']) ?>">
    <noscript><p class="stask-error"><?= $e($page['strings']['noscript'] ?? 'JavaScript is required.') ?></p></noscript>
</div>
<?php if (($page['doctor'] ?? '') !== ''): ?>
<p id="stask-web-php" class="stask-web-php" data-url="<?= $e($page['doctor']) ?>" style="margin:1rem;font-size:.85em;opacity:.75"></p>
<script src="<?= $e($assets . '/stask-doctor.js?v=' . $version) ?>" defer></script>
<?php endif; ?>
</body>
</html>
