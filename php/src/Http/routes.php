<?php

declare(strict_types=1);

use Illuminate\Support\Facades\Route;
use Seiger\sTask\Http\HttpAdapter;
use Seiger\sTask\Http\DoctorProbe;
use Seiger\sTask\Http\Middleware\AuthorizeManager;

/*
 * The admin module and the REST API of sTask inside the host, loaded by the
 * provider inside its group (prefix `stask`, the `mgr` middleware group:
 * /manager/stask in Evolution CMS's manager, /stask in plain Laravel; see
 * sTaskServiceProvider::registerRoutes()).
 *
 * Every route requires the `stask` permission and, unless it is a GET,
 * the session's CSRF token (AuthorizeManager, which answers 403/419 JSON).
 * The host's own VerifyCsrfToken is excluded from these routes because
 * AuthorizeManager checks the same token the same way and always answers
 * with JSON; the API logic is the engine's (sTask::handleHttp).
 */

$hostCsrf = [
    'Illuminate\Foundation\Http\Middleware\VerifyCsrfToken', // and the app's subclasses
    'EvolutionCMS\Middleware\VerifyCsrfToken',
];

Route::middleware(AuthorizeManager::class)->group(static function () use ($hostCsrf): void {
    Route::get('', [HttpAdapter::class, 'page'])->name('sTask.index')->withoutMiddleware($hostCsrf);
    Route::get('assets/{file}', [HttpAdapter::class, 'asset'])
        ->where('file', '[A-Za-z0-9][A-Za-z0-9._-]*')
        ->name('sTask.asset')
        ->withoutMiddleware($hostCsrf);
    // The web server's PHP reports itself (the module shows it, stask:doctor
    // reads it); AuthorizeManager also lets stask:doctor's one-time token in.
    Route::get('doctor', [DoctorProbe::class, 'handle'])->name('sTask.doctor')->withoutMiddleware($hostCsrf);
    Route::any('{path}', [HttpAdapter::class, 'api'])
        ->where('path', '.+')
        ->name('sTask.api')
        ->withoutMiddleware($hostCsrf);
});
