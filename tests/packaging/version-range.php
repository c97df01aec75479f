<?php
// The package's extension version range: the constraint checker, and the
// range agreeing with php/composer.json and the versions with Cargo.toml.
// Plain PHP (no extension, no PHPUnit): php tests/packaging/version-range.php

declare(strict_types=1);

require __DIR__ . '/../../php/src/Support/ExtensionVersion.php';

use Seiger\sTask\Support\ExtensionVersion as V;

$failures = 0;
$check = static function (bool $ok, string $what) use (&$failures): void {
    if (!$ok) {
        $failures++;
        fwrite(STDERR, "FAIL: {$what}\n");
    }
};

$cases = [
    ['0.1.0', '~0.1.0', true], ['0.1.9', '~0.1.0', true], ['0.2.0', '~0.1.0', false], ['0.0.9', '~0.1.0', false],
    ['1.4.0', '~1.2', true], ['2.0.0', '~1.2', false], ['1.2.3', '^1.2', true], ['1.9.9', '^1.2.3', true],
    ['2.0.0', '^1.2.3', false], ['0.2.5', '^0.2.3', true], ['0.3.0', '^0.2.3', false], ['0.0.3', '^0.0.3', true],
    ['0.0.4', '^0.0.3', false], ['1.2.7', '1.2.*', true], ['1.3.0', '1.2.*', false], ['1.9.0', '1.*', true],
    ['0.1.0', '>=0.1 <0.2', true], ['0.2.0', '>=0.1 <0.2', false], ['0.1.5', '>=0.1.0,<0.2.0', true],
    ['0.3.0', '~0.1.0 || ~0.3.0', true], ['0.2.0', '~0.1.0 || ~0.3.0', false], ['0.1.0', '0.1.0', true],
    ['0.1.1', '0.1.0', false], ['5.0.0', '*', true], ['0.1.0-dev', '~0.1.0', true], ['v0.1.2', '~0.1.0', true],
    ['garbage', '*', false], ['0.1.0', 'dev-main', false],
];
foreach ($cases as [$version, $constraint, $expected]) {
    $check(V::satisfies($version, $constraint) === $expected, "'{$version}' against '{$constraint}' should be " . var_export($expected, true));
}

$root = dirname(__DIR__, 2);
$composer = json_decode((string) file_get_contents($root . '/php/composer.json'), true, 512, JSON_THROW_ON_ERROR);
$check(($composer['require']['ext-stask'] ?? null) === V::SUPPORTED, 'php/composer.json requires ext-stask ' . var_export($composer['require']['ext-stask'] ?? null, true) . ', ExtensionVersion::SUPPORTED is ' . V::SUPPORTED);
preg_match('/^version\s*=\s*"([^"]+)"/m', (string) file_get_contents($root . '/Cargo.toml'), $m);
$cargo = $m[1] ?? '';
$check($cargo === V::PACKAGE, "Cargo.toml's version {$cargo} is not ExtensionVersion::PACKAGE " . V::PACKAGE);
$check(V::satisfies($cargo, V::SUPPORTED), "the extension built from this tree ({$cargo}) is outside the package's range " . V::SUPPORTED);
$pie = json_decode((string) file_get_contents($root . '/composer.json'), true, 512, JSON_THROW_ON_ERROR);
$check(($pie['type'] ?? '') === 'php-ext' && ($pie['php-ext']['extension-name'] ?? '') === 'stask', 'composer.json is a php-ext package named stask');
$check(($pie['php-ext']['download-url-method'] ?? null) === ['pre-packaged-binary', 'composer-default'], 'PIE tries the pre-packaged binary, then the source');

if ($failures > 0) {
    exit(1);
}
echo 'ok: version range (' . count($cases) . " cases), php/composer.json and Cargo.toml agree\n";
