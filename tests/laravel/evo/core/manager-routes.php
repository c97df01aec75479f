<?php

use Illuminate\Support\Facades\Route;

// manager/routes.php: the manager's own pages, in the mgr group. The login
// is the harness's: Evolution's login form does the same with the session.
Route::get('/', static fn () => '<!doctype html><title>Evolution CMS</title><h1>Manager dashboard</h1>');
Route::post('harness-login', static function () {
    evo()->loginManager((int) request('user_id', 1), (int) request('role_id', 1));

    return response()->json(['ok' => true]);
});
