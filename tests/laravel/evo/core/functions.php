<?php

/*
 * The Laravel-style helpers an Evolution CMS 3.1 core defines
 * (core/functions/laravel.php and preload.php), written for this harness with
 * the same names and signatures. Foundation's other helpers (report(),
 * logger(), info(), event(), abort(), storage_path() of Foundation, ...) do
 * not exist on such a core, so the package must not rely on them.
 */

use Illuminate\Support\Facades\Date;
use Illuminate\Support\Str;

function evolutionCMS()
{
    return \EvolutionCMS\Core::getInstance();
}

function evo()
{
    return evolutionCMS();
}

function is_cli(): bool
{
    return PHP_SAPI === 'cli' && !isset($_SERVER['REQUEST_METHOD']);
}

function app($abstract = null, array $parameters = [])
{
    return $abstract === null ? evolutionCMS() : evolutionCMS()->make($abstract, $parameters);
}

function config($key = null, $default = null)
{
    if ($key === null) {
        return app('config');
    }
    if (is_array($key)) {
        return app('config')->set($key);
    }

    return app('config')->get($key, $default);
}

/** Evolution's second argument points into core/custom/config. */
function config_path($path = '', $custom = false)
{
    return EVO_CORE_PATH . ($custom ? 'custom/config' : 'config') . ($path ? '/' . $path : '');
}

function app_path($path = '')
{
    return EVO_CORE_PATH . 'src' . ($path ? '/' . $path : '');
}

function base_path($path = '')
{
    return rtrim(EVO_CORE_PATH, '/') . ($path ? '/' . $path : '');
}

function storage_path($path = '')
{
    return EVO_CORE_PATH . 'storage' . ($path ? '/' . $path : '');
}

function public_path($path = '')
{
    return rtrim(MODX_BASE_PATH, '/') . ($path ? '/' . $path : '');
}

function resource_path($path = '')
{
    return public_path($path);
}

function database_path($path = '')
{
    return evolutionCMS()->databasePath($path);
}

/** As the core: a URL under the site's assets/ folder. */
function asset($path = '')
{
    return MODX_SITE_URL . 'assets/' . ltrim((string) $path, '/');
}

function csrf_token()
{
    if (isset($_SESSION)) {
        if (empty($_SESSION['_token'])) {
            $_SESSION['_token'] = Str::random(40);
        }

        return $_SESSION['_token'];
    }

    throw new RuntimeException('Application session store not set.');
}

function now($tz = null)
{
    return Date::now($tz);
}

function today($tz = null)
{
    return Date::today($tz);
}

function request($key = null, $default = null)
{
    if ($key === null) {
        return app('request');
    }
    $value = app('request')->__get($key);

    return $value ?? value($default);
}

function response($content = '', $status = 200, array $headers = [])
{
    $factory = app(\Illuminate\Contracts\Routing\ResponseFactory::class);

    return func_num_args() === 0 ? $factory : $factory->make($content, $status, $headers);
}

function redirect($to = null, $status = 302, $headers = [], $secure = null)
{
    return $to === null ? app('redirect') : app('redirect')->to($to, $status, $headers, $secure);
}

function route($name, $parameters = [], $absolute = true)
{
    return app('url')->route($name, $parameters, $absolute);
}

function session($key = null, $default = null)
{
    if ($key === null) {
        return app('session');
    }
    if (is_array($key)) {
        return app('session')->put($key);
    }

    return app('session')->get($key, $default);
}

function trans($key = null, $replace = [], $locale = null)
{
    return $key === null ? app('translator') : app('translator')->get($key, $replace, $locale);
}

function trans_choice($key, $number, array $replace = [], $locale = null)
{
    return app('translator')->choice($key, $number, $replace, $locale);
}

function __($key = null, $replace = [], $locale = null)
{
    return $key === null ? $key : trans($key, $replace, $locale);
}

function view($view = null, $data = [], $mergeData = [])
{
    $factory = app(\Illuminate\Contracts\View\Factory::class);

    return func_num_args() === 0 ? $factory : $factory->make($view, $data, $mergeData);
}

function cache()
{
    $arguments = func_get_args();
    if ($arguments === []) {
        return app('cache');
    }
    if (is_string($arguments[0])) {
        return app('cache')->get(...$arguments);
    }

    return app('cache')->put(key($arguments[0]), reset($arguments[0]), $arguments[1] ?? null);
}

/** Evolution's url() makes a document's URL, not Laravel's. */
function url(int $id, string $alias = '', string $args = '', string $scheme = '')
{
    return MODX_SITE_URL . ($alias !== '' ? $alias : 'doc' . $id) . $args;
}
