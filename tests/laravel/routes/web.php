<?php

use Illuminate\Support\Facades\Route;

Route::get('/', fn () => 'stask harness');

// A manager login as Evolution's UserLogin does it (the native session gets
// the role's permissions); test-only.
if (class_exists(\App\Evolution\Core::class, false)) {
    Route::get('/harness/login', static function (\Illuminate\Http\Request $request) {
        evo()->loginManager((int) $request->query('user'), (int) $request->query('role'));

        return 'logged in';
    });
}
